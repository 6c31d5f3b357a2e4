import { timingSafeEqual } from "node:crypto"
import type { Sql } from "@helmr/migrations/db"
import { createMiddleware } from "hono/factory"
import { ApiError } from "../errors.ts"
import { PRE_SESSION_CSRF_COOKIE, readCookie, SESSION_COOKIE } from "./cookies.ts"
import type { DashEnv } from "./dashboard-env.ts"
import { findOperatorSession, listMemberEnvironments } from "./operator-sessions.ts"

/** Sets `session` from the cookie (null when signed out or expired). */
export function loadSession(sql: Sql) {
  return createMiddleware<DashEnv>(async function loadSession(c, next) {
    const token = readCookie(c, SESSION_COOKIE)
    c.set("session", token ? await findOperatorSession(sql, token) : null)
    await next()
  })
}

/**
 * Pages under `/p/:project/:env`: a signed-out GET goes to the sign-in page (and comes back);
 * anything else signed out is a 401. An environment the operator is not a member of is a 404,
 * the same answer as one that does not exist.
 */
export function requireScope(sql: Sql) {
  return createMiddleware<DashEnv>(async function requireScope(c, next) {
    const session = c.get("session")
    if (!session) {
      if (c.req.method === "GET" && !c.req.path.endsWith("/live")) {
        const back = new URL(c.req.url)
        return c.redirect(`/sign-in?next=${encodeURIComponent(back.pathname + back.search)}`, 303)
      }
      throw new ApiError(401, "unauthorized", "sign in first: your session ended")
    }
    const environments = await listMemberEnvironments(sql, session.operatorId)
    const project = c.req.param("project")
    const env = c.req.param("env")
    const environment = environments.find(
      (e) => e.projectSlug === project && e.environmentSlug === env,
    )
    if (!environment)
      throw new ApiError(404, "not_found", `environment ${project}/${env} not found`)
    c.set("scope", {
      caller: {
        keyId: `operator:${session.operatorId}`,
        environmentId: environment.environmentId,
        environmentSlug: environment.environmentSlug,
        projectId: environment.projectId,
        currentDeploymentId: environment.currentDeploymentId,
      },
      environment,
      environments,
      base: `/p/${environment.projectSlug}/${environment.environmentSlug}`,
    })
    await next()
  })
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * CSRF on every state-changing request: a synchronizer token per session, sent as the form field
 * `_csrf` (or the `x-csrf-token` header from the page script). The sign-in form, which has no
 * session yet, uses a double-submit token held in its own cookie. SameSite cookies alone are not
 * enough: an older browser or a same-site sibling host would still send them.
 */
export function requireCsrf() {
  return createMiddleware<DashEnv>(async function requireCsrf(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return next()
    const expected =
      c.req.path === "/sign-in"
        ? readCookie(c, PRE_SESSION_CSRF_COOKIE)
        : c.get("session")?.csrfToken
    if (expected === undefined && c.req.path !== "/sign-in") {
      // Signed out: the 401 says more than a CSRF failure would.
      throw new ApiError(401, "unauthorized", "sign in first: your session ended")
    }
    let given = c.req.header("x-csrf-token")
    if (given === undefined) {
      const type = c.req.header("content-type") ?? ""
      if (/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
        const form = await c.req.parseBody()
        const field = form._csrf
        given = typeof field === "string" ? field : undefined
      }
    }
    if (!expected || !given || !sameToken(expected, given)) {
      throw new ApiError(
        403,
        "forbidden",
        "this form is missing its security token or it has expired: reload the page and try again",
      )
    }
    await next()
  })
}

function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
