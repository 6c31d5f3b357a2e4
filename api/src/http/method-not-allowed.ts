import type { Hono } from "hono"
import type { AppEnv } from "../env.ts"
import { ApiError } from "../errors.ts"

/**
 * Hono answers a known path with the wrong method as 404; we answer 405 with `Allow`. Call it
 * after every route of `router` is registered: it adds, per path, a catch-all that only runs when
 * no handler for the request's method matched first.
 */
export function answerMethodNotAllowed(router: Hono<AppEnv>): void {
  const allowed = new Map<string, Set<string>>()
  for (const route of router.routes) {
    // Middleware registered with use() shows up as method ALL; it says nothing about methods.
    if (route.method === "ALL") continue
    const methods = allowed.get(route.path) ?? new Set<string>()
    methods.add(route.method)
    if (route.method === "GET") methods.add("HEAD")
    allowed.set(route.path, methods)
  }
  for (const [path, methods] of allowed) {
    const allow = [...methods].sort().join(", ")
    router.all(path, (c) => {
      c.header("Allow", allow)
      throw new ApiError(
        405,
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}`,
      )
    })
  }
}
