import type { Hono } from "hono"
import type { ApiDeps, AppEnv } from "../env.ts"
import { deploymentRoutes } from "./deployments.ts"

/**
 * Every `/api/v1` resource router, mounted in one place. Each resource is one file in this folder
 * exporting `xxxRoutes(deps)`; auth and body limits are already applied by the caller.
 */
export function mountV1Routes(v1: Hono<AppEnv>, deps: ApiDeps): void {
  v1.get("/whoami", (c) => {
    const caller = c.get("caller")
    return c.json({
      environment: { id: caller.environmentId, slug: caller.environmentSlug },
      projectId: caller.projectId,
    })
  })
  v1.route("/deployments", deploymentRoutes(deps))
}
