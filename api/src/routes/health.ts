import { checkDependencies } from "@helmr/migrations/service"
import { Hono } from "hono"
import type { ApiDeps, AppEnv } from "../env.ts"

/** `GET /healthz`: 200 when Postgres and Valkey answer, 503 naming what does not. */
export function healthRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/healthz", async (c) => {
    const { ok, ...parts } = await checkDependencies(deps.sql, deps.valkey)
    return c.json({ status: ok ? "ok" : "degraded", ...parts }, ok ? 200 : 503)
  })
}
