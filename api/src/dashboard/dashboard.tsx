/** @jsxImportSource hono/jsx */
import { Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { createMiddleware } from "hono/factory"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { DEFAULT_BODY_LIMIT_BYTES } from "../body-limits.ts"
import type { ApiDeps } from "../env.ts"
import { ApiError, asApiError } from "../errors.ts"
import type { RunServices } from "../routes/runs.ts"

type DashboardServices = Pick<RunServices, "catalog" | "notifier" | "batcher">

import { assetRoutes } from "./asset-routes.ts"
import { authRoutes } from "./auth-routes.tsx"
import { ErrorBox, issuesOf } from "./components.tsx"
import type { DashEnv } from "./dashboard-env.ts"
import { deploymentsRoutes } from "./deployments-routes.tsx"
import { loadSession, requireCsrf, requireScope } from "./guard.ts"
import { keysRoutes } from "./keys-routes.tsx"
import { Page } from "./layout.tsx"
import { runsRoutes } from "./runs-routes.tsx"
import { schedulesRoutes } from "./schedules-routes.tsx"
import { secretsRoutes } from "./secrets-routes.tsx"

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ")

/** Pages are never framed, sniffed or cached by shared caches; scripts come only from us. */
const securityHeaders = createMiddleware<DashEnv>(async function securityHeaders(c, next) {
  await next()
  c.header("content-security-policy", CSP)
  c.header("x-content-type-options", "nosniff")
  c.header("referrer-policy", "same-origin")
  c.header("x-frame-options", "DENY")
  if (!c.res.headers.get("cache-control")) c.header("cache-control", "private, no-cache")
})

/**
 * The operators' dashboard, served under `/`: server-rendered pages (Hono JSX) that call the same
 * operations as `/api/v1` (trigger, cancel, replay, schedule writes, promotion, secrets, keys),
 * scoped to an environment the signed-in operator is a member of (`/p/<project>/<env>/…`).
 * Its middleware is bound to its own paths only, so API requests never pay for it.
 */
export function dashboardRoutes(deps: ApiDeps, services: DashboardServices): Hono<DashEnv> {
  const app = new Hono<DashEnv>()
  const limit = bodyLimit({
    maxSize: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", "the form is too large")
    },
  })
  const pages = ["/", "/sign-in", "/sign-out", "/sign-out-everywhere", "/p/:project/:env/*"]
  for (const path of pages) {
    app.use(path, securityHeaders, limit, loadSession(deps.sql))
  }
  app.use("/p/:project/:env/*", requireScope(deps.sql))
  for (const path of pages) app.use(path, requireCsrf())

  app.route("/", assetRoutes())
  app.route("/", authRoutes(deps))
  app.get("/p/:project/:env", (c) =>
    c.redirect(`/p/${c.req.param("project")}/${c.req.param("env")}/runs`, 303),
  )
  const scoped = new Hono<DashEnv>()
  scoped.route("/", runsRoutes(deps, services))
  scoped.route("/", schedulesRoutes(deps, services))
  scoped.route("/", deploymentsRoutes(deps))
  scoped.route("/", secretsRoutes(deps))
  scoped.route("/", keysRoutes(deps))
  app.route("/p/:project/:env", scoped)

  app.onError((thrown, c) => {
    const error = asApiError(thrown) as Error
    const status = (error instanceof HTTPException ? error.status : 500) as ContentfulStatusCode
    if (status >= 500) c.get("logger").error({ err: error }, "dashboard error")
    // Our own errors say what happened; anything else is not shown to the browser.
    const message =
      status >= 500 && !(error instanceof ApiError)
        ? "Something went wrong on our side; it has been logged."
        : error.message
    const wantsJson =
      c.req.path.endsWith("/preview") ||
      c.req.path.endsWith("/check-payload") ||
      c.req.path.endsWith("/live")
    if (wantsJson) {
      const code =
        error instanceof ApiError ? error.code : status >= 500 ? "internal" : "bad_request"
      return c.json({ error: { code, message, requestId: c.get("requestId") } }, status)
    }
    const session = c.get("session") ?? null
    const scope = c.get("scope")
    return c.html(
      <Page title={`Error ${status}`} session={session} scope={scope}>
        <h1>{status === 404 ? "Not found" : status === 401 ? "Signed out" : `Error ${status}`}</h1>
        <ErrorBox
          message={message}
          issues={error instanceof ApiError ? issuesOf(error.details) : undefined}
        />
        <p>
          {status === 401 ? (
            <a href="/sign-in">Sign in</a>
          ) : scope ? (
            <a href={`${scope.base}/runs`}>Back to runs</a>
          ) : (
            <a href="/">Back</a>
          )}
        </p>
      </Page>,
      status,
    )
  })
  return app
}
