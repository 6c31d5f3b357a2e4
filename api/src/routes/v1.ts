import { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import type { Hono } from "hono"
import type { KeyResolver } from "../auth.ts"
import type { ApiDeps, AppEnv } from "../env.ts"
import { answerMethodNotAllowed } from "../http/method-not-allowed.ts"
import { RunBatcher } from "../runs/run-batcher.ts"
import { createRunNotifier } from "../runs/run-notifier.ts"
import { batchRoutes } from "./batch.ts"
import { deploymentRoutes } from "./deployments.ts"
import { runsRoutes } from "./runs.ts"
import { schedulesRoutes } from "./schedules.ts"
import { secretsRoutes } from "./secrets.ts"
import { sessionsRoutes } from "./sessions.ts"
import { timezonesRoutes } from "./timezones.ts"
import { tokensRoutes } from "./tokens.ts"

/**
 * Every `/api/v1` resource router, mounted in one place. Each resource is one file in this folder
 * exporting `xxxRoutes(deps)`; auth, rate limits and body limits are already applied by the caller.
 */
export function mountV1Routes(v1: Hono<AppEnv>, deps: ApiDeps, keys: KeyResolver): void {
  v1.get("/whoami", (c) => {
    const caller = c.get("caller")
    return c.json({
      environment: { id: caller.environmentId, slug: caller.environmentSlug },
      projectId: caller.projectId,
    })
  })
  v1.route("/deployments", deploymentRoutes(deps))
  // One catalog, notifier and batcher per app: they cache manifests, share a subscriber and
  // gather concurrent triggers into one insert.
  const catalog = new TaskCatalog(deps.sql, deps.logger)
  const notifier = createRunNotifier(deps.valkey, deps.keys, deps.logger)
  const batcher = new RunBatcher(deps)
  v1.route("/", runsRoutes(deps, { catalog, notifier, batcher, keys }))
  v1.route("/", batchRoutes(deps, catalog))
  v1.route("/", schedulesRoutes(deps, catalog))
  v1.route("/", timezonesRoutes())
  v1.route("/", secretsRoutes(deps))
  v1.route("/", tokensRoutes(deps, notifier))
  v1.route("/", sessionsRoutes(deps, notifier))

  // Keep last: it answers 405 for every path registered above.
  answerMethodNotAllowed(v1)
}
