/** @jsxImportSource hono/jsx */
import type { RunEventRow } from "@helmr/migrations/rows"
import { Hono } from "hono"
import { presentDeployment, presentDeploymentDetail } from "../deployments/present.ts"
import { promoteDeployment } from "../deployments/promote.ts"
import { findDeployment, listDeploymentFiles, listDeployments } from "../deployments/queries.ts"
import type { ApiDeps } from "../env.ts"
import { notFound } from "../errors.ts"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv, Scope } from "./dashboard-env.ts"
import { type BuildLog, DeploymentPage } from "./deployment-page.tsx"
import { DeploymentsPage, promoteLabel } from "./deployments-page.tsx"
import { PromotePage } from "./promote-page.tsx"
import { previewPromotion } from "./promotion-preview.ts"

const PAGE = 25

/** Deployments: list, manifest and build log, promote and roll back after a confirmation. */
export function deploymentsRoutes(deps: ApiDeps): Hono<DashEnv> {
  const mustFind = async (scope: Scope, id: string) => {
    const row = await findDeployment(deps.sql, scope.caller.environmentId, id)
    if (!row) throw notFound(`deployment ${id}`)
    return row
  }
  const currentOf = async (scope: Scope) => {
    const id = scope.caller.currentDeploymentId
    return id ? await findDeployment(deps.sql, scope.caller.environmentId, id) : null
  }

  /** The newest build the runner recorded for this deployment's images (run events `build`). */
  const buildLog = async (deploymentId: string): Promise<BuildLog> => {
    const [latest] = await deps.sql<{ runId: string }[]>`
      select e.run_id from run_events e join runs r on r.id = e.run_id
      where r.deployment_id = ${deploymentId} and e.type = 'build'
      order by e.id desc limit 1`
    if (!latest) return { status: "not built yet", runId: null, events: [] }
    const events = await deps.sql<RunEventRow[]>`
      select * from run_events where run_id = ${latest.runId} and type = 'build'
      order by id limit 500`
    const text = events.map((e) => e.message ?? "").join("\n")
    const status = /: failed\b|build failed/i.test(text)
      ? "failed"
      : /: (built|up to date)\b/.test(text)
        ? "built"
        : "building"
    return { status, runId: latest.runId, events }
  }

  return new Hono<DashEnv>()
    .get("/deployments", async (c) => {
      const scope = c.get("scope")
      const cursor = /^[1-9][0-9]{0,9}$/.test(c.req.query("cursor") ?? "")
        ? Number(c.req.query("cursor"))
        : undefined
      const rows = await listDeployments(deps.sql, scope.caller.environmentId, {
        limit: PAGE + 1,
        beforeVersion: cursor,
      })
      const page = rows.slice(0, PAGE)
      const last = page.at(-1)
      return c.html(
        <DeploymentsPage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          deployments={page.map(presentDeployment)}
          nextCursor={rows.length > PAGE && last ? String(last.version) : null}
        />,
      )
    })
    .get("/deployments/:id", async (c) => {
      const scope = c.get("scope")
      const row = await mustFind(scope, c.req.param("id"))
      const current = await currentOf(scope)
      return c.html(
        <DeploymentPage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          deployment={presentDeploymentDetail(row, await listDeploymentFiles(deps.sql, row.id))}
          promoteLabel={promoteLabel(row.version, current?.version ?? null)}
          build={await buildLog(row.id)}
        />,
      )
    })
    .get("/deployments/:id/promote", async (c) => {
      const scope = c.get("scope")
      const row = await mustFind(scope, c.req.param("id"))
      const current = await currentOf(scope)
      return c.html(
        <PromotePage
          session={c.get("session")!}
          scope={scope}
          deployment={presentDeployment(row)}
          label={promoteLabel(row.version, current?.version ?? null)}
          current={current ? presentDeployment(current) : null}
          preview={await previewPromotion(deps.sql, scope.caller.environmentId, row.manifest)}
        />,
      )
    })
    .post("/deployments/:id/promote", async (c) => {
      const scope = c.get("scope")
      const result = await promoteDeployment(deps, scope.caller, c.req.param("id"))
      const s = result.schedules
      const summary = `${s.created.length} schedule(s) created, ${s.updated.length} changed, ${s.removed.length} removed`
      setFlash(
        c,
        result.changed
          ? `v${result.deployment.version} is now current; ${summary}.`
          : `v${result.deployment.version} was already current; nothing changed.`,
      )
      return c.redirect(`${scope.base}/deployments/${result.deployment.id}`, 303)
    })
}
