import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import { createMiddleware } from "hono/factory"
import type { AppEnv } from "../env.ts"
import { ApiError } from "../errors.ts"

export interface RateLimitOptions {
  /** Requests one API key may make per window. */
  limit: number
  windowSeconds: number
}

/**
 * Per-key fixed-window rate limit in Valkey (one INCR a request). Over the limit: 429 with
 * `Retry-After` (seconds to the next window). Valkey being unreachable lets requests through:
 * the limit protects capacity, it must not turn a Valkey hiccup into an outage.
 */
export function rateLimit(valkey: Valkey, keys: ValkeyKeys, options: RateLimitOptions) {
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new Error("rate limit must be a positive integer")
  }
  const windowMs = options.windowSeconds * 1000
  return createMiddleware<AppEnv>(async function rateLimit(c, next) {
    const now = Date.now()
    const window = Math.floor(now / windowMs)
    const key = keys.rateLimit(c.get("caller").keyId, window)
    let count: number
    try {
      const replies = await valkey
        .multi()
        .incr(key)
        .pexpire(key, windowMs * 2)
        .exec()
      const [error, incr] = replies?.[0] ?? [new Error("no reply from Valkey"), null]
      if (error) throw error
      count = Number(incr)
    } catch (error) {
      c.get("logger").warn({ err: error }, "rate limit check skipped: Valkey unavailable")
      return next()
    }
    const remaining = Math.max(0, options.limit - count)
    c.header("RateLimit-Limit", String(options.limit))
    c.header("RateLimit-Remaining", String(remaining))
    if (count > options.limit) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000))
      c.header("Retry-After", String(retryAfter))
      throw new ApiError(
        429,
        "rate_limited",
        `rate limit of ${options.limit} requests per ${options.windowSeconds}s exceeded; retry in ${retryAfter}s`,
        { limit: options.limit, windowSeconds: options.windowSeconds, retryAfter },
      )
    }
    await next()
  })
}
