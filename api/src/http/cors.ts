import { cors } from "hono/cors"
import { z } from "zod"

/** Why `value` is not an exact web origin (`https://app.example.com[:port]`), or null if it is. */
export function originProblem(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `'${value}' is not a URL`
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `'${value}' is not an http(s) origin`
  // The origin is the whole value: no path (not even "/"), query, fragment or credentials.
  if (url.origin !== value) return `'${value}' is not an origin alone (expected ${url.origin})`
  return null
}

/**
 * `HELMR_CORS_ORIGINS`: comma-separated exact origins; unset or empty turns CORS off. An origin
 * is not a secret, so a bad entry is named in the error.
 */
export const CorsOrigins = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const origins = (raw ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
    for (const origin of origins) {
      const problem = originProblem(origin)
      if (problem) ctx.addIssue({ code: "custom", message: problem })
    }
    return origins
  })

/** Request headers a browser may send to `/api/v1` across origins. */
const ALLOWED_HEADERS = ["Authorization", "Content-Type", "Last-Event-ID", "X-Request-Id"]
const ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
/** Response headers a browser script may read: the request id and the rate-limit headers. */
const EXPOSED_HEADERS = ["X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"]

/**
 * CORS for `/api/v1/*` with an exact allow-list of origins (`HELMR_CORS_ORIGINS`). Another origin
 * gets no `Access-Control-Allow-Origin`, so the browser withholds the answer. Credentials are not
 * allowed: API keys travel in `Authorization`, never in cookies.
 */
export function corsForOrigins(origins: readonly string[]) {
  const allowed = new Set(origins)
  return cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ALLOWED_METHODS,
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  })
}
