import { bodyLimit } from "hono/body-limit"
import { createMiddleware } from "hono/factory"
import type { AppEnv } from "./env.ts"
import { ApiError } from "./errors.ts"

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024
export const DEFAULT_DEPLOY_BODY_LIMIT_BYTES = 64 * 1024 * 1024

/**
 * Request body limits (413 past them): one default, and larger ones for the few routes that take
 * uploads, keyed `"<METHOD> <path>"`. A larger limit applies to its route only.
 */
export function bodyLimits(options: { defaultBytes: number; routes: Record<string, number> }) {
  const tooLarge = (bytes: number) => () => {
    throw new ApiError(413, "payload_too_large", `request body is larger than ${bytes} bytes`)
  }
  const fallback = bodyLimit({
    maxSize: options.defaultBytes,
    onError: tooLarge(options.defaultBytes),
  })
  const perRoute = new Map(
    Object.entries(options.routes).map(([route, bytes]) => [
      route,
      bodyLimit({ maxSize: bytes, onError: tooLarge(bytes) }),
    ]),
  )
  return createMiddleware<AppEnv>(async function bodyLimits(c, next) {
    const limit = perRoute.get(`${c.req.method} ${c.req.path}`) ?? fallback
    return limit(c, next)
  })
}
