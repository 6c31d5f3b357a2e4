import { OperationError } from "@helmr/migrations/queries/operation-error"
import { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import type { ErrorEnvelope } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { environmentKeyAuth, KeyResolver } from "./auth.ts"
import {
  bodyLimits,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DEPLOY_BODY_LIMIT_BYTES,
} from "./body-limits.ts"
import { dashboardRoutes } from "./dashboard/dashboard.tsx"
import type { ApiDeps, AppEnv } from "./env.ts"
import { ApiError } from "./errors.ts"
import { corsForOrigins } from "./http/cors.ts"
import { answerMethodNotAllowed } from "./http/method-not-allowed.ts"
import { answerMetrics, createApiMetrics, recordRequests } from "./http/metrics.ts"
import { rateLimit } from "./http/rate-limit.ts"
import { requestContext } from "./request-context.ts"
import { healthRoutes } from "./routes/health.ts"
import { openapiRoutes } from "./routes/openapi.ts"
import { mountV1Routes } from "./routes/v1.ts"
import { RunBatcher } from "./runs/run-batcher.ts"
import { createRunNotifier } from "./runs/run-notifier.ts"

export type { ApiDeps } from "./env.ts"
export { ApiError } from "./errors.ts"

/** Builds the Hono app. Runs on Bun and Deno; every dependency is passed in. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const metrics = createApiMetrics()
  app.use("*", recordRequests(metrics))
  app.use("*", requestContext(deps))
  // Before auth: a preflight carries no key. Off (no header at all) unless origins are listed.
  if (deps.corsOrigins && deps.corsOrigins.length > 0)
    app.use("/api/v1/*", corsForOrigins(deps.corsOrigins))

  app.route("/", healthRoutes(deps))
  // Outside /api/v1 and without a key, like /healthz: scraped by Prometheus on the private network.
  if (deps.metricsEndpoint !== false) app.get("/metrics", answerMetrics(metrics))
  app.route("/", openapiRoutes())

  const v1 = new Hono<AppEnv>()
  // Auth first: it reads no body, so an unauthenticated caller never makes the API buffer one
  // (the upload route accepts tens of MiB).
  const keys = new KeyResolver(deps.sql)
  v1.use("*", environmentKeyAuth(keys))
  // Per key, before any body is read.
  if (deps.rateLimit) v1.use("*", rateLimit(deps.valkey, deps.keys, deps.rateLimit))
  v1.use(
    "*",
    bodyLimits({
      defaultBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      routes: {
        "POST /api/v1/deployments": deps.deployBodyLimitBytes ?? DEFAULT_DEPLOY_BODY_LIMIT_BYTES,
      },
    }),
  )
  mountV1Routes(v1, deps, keys)
  app.route("/api/v1", v1)
  // The dashboard's own catalog, notifier and batcher (the API's are made in mountV1Routes).
  app.route(
    "/",
    dashboardRoutes(deps, {
      catalog: new TaskCatalog(deps.sql, deps.logger),
      notifier: createRunNotifier(deps.valkey, deps.keys, deps.logger),
      batcher: new RunBatcher(deps),
    }),
  )
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
    // Refusals of the operations the API shares with the runner (migrations/src/queries).
    if (error instanceof OperationError) {
      return c.json(
        {
          error: {
            code: error.code,
            message: error.message,
            requestId,
            ...(error.details === undefined ? {} : { details: error.details }),
          },
        } satisfies ErrorEnvelope,
        error.status,
      )
    }
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
