import type { ErrorEnvelope } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { environmentKeyAuth } from "./auth.ts"
import type { ApiDeps, AppEnv } from "./env.ts"
import { ApiError } from "./errors.ts"
import { answerMethodNotAllowed } from "./http/method-not-allowed.ts"
import { rateLimit } from "./http/rate-limit.ts"
import { requestContext } from "./request-context.ts"
import { healthRoutes } from "./routes/health.ts"
import { openapiRoutes } from "./routes/openapi.ts"
import { mountV1Routes } from "./routes/v1.ts"

export type { ApiDeps } from "./env.ts"
export { ApiError } from "./errors.ts"

/** Builds the Hono app. Runs on Bun and Deno; every dependency is passed in. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use("*", requestContext(deps))

  app.route("/", healthRoutes(deps))
  app.route("/", openapiRoutes())

  const v1 = new Hono<AppEnv>()
  v1.use(
    "*",
    bodyLimit({
      maxSize: deps.bodyLimitBytes ?? 1024 * 1024,
      onError: () => {
        throw new ApiError(413, "payload_too_large", "request body is too large")
      },
    }),
  )
  v1.use("*", environmentKeyAuth(deps.sql))
  if (deps.rateLimit) v1.use("*", rateLimit(deps.valkey, deps.keys, deps.rateLimit))
  mountV1Routes(v1, deps)
  app.route("/api/v1", v1)
  answerMethodNotAllowed(app)

  app.notFound((c) => {
    const body: ErrorEnvelope = {
      error: {
        code: "not_found",
        message: `no route for ${c.req.method} ${c.req.path}`,
        requestId: c.get("requestId"),
      },
    }
    return c.json(body, 404)
  })

  app.onError((error, c) => {
    const requestId = c.get("requestId")
    if (error instanceof ApiError) {
      const body: ErrorEnvelope = {
        error: {
          code: error.code,
          message: error.message,
          requestId,
          ...(error.details === undefined ? {} : { details: error.details }),
        },
      }
      return c.json(body, error.status)
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode
      const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : "bad_request"
      return c.json(
        {
          error: { code, message: error.message || "bad request", requestId },
        } satisfies ErrorEnvelope,
        status,
      )
    }
    c.get("logger").error({ err: error }, "unhandled error")
    return c.json(
      { error: { code: "internal", message: "internal error", requestId } } satisfies ErrorEnvelope,
      500,
    )
  })

  return app
}
