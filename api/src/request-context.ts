import { createMiddleware } from "hono/factory"
import type { ApiDeps, AppEnv } from "./env.ts"

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Gives every request an id (the caller's `X-Request-Id` when sane), a logger and the deps. */
export function requestContext(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async function requestContext(c, next) {
    const incoming = c.req.header("x-request-id")
    const requestId =
      incoming && INCOMING_ID.test(incoming) ? incoming : `req_${crypto.randomUUID()}`
    const logger = deps.logger.child({ requestId })
    c.set("deps", deps)
    c.set("requestId", requestId)
    c.set("logger", logger)
    c.header("X-Request-Id", requestId)
    const started = performance.now()
    await next()
    logger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    )
  })
}
