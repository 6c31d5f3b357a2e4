/** @jsxImportSource hono/jsx */
import type { DeploymentBuildEventRow } from "@helmr/migrations/rows"
import { Hono } from "hono"
import { presentBuild, presentDeployment, presentDeploymentDetail } from "../deployments/present.ts"
import { promoteDeployment } from "../deployments/promote.ts"
import {
  type DeploymentView,
  findDeployment,
  listDeploymentFiles,
  listDeployments,
} from "../deployments/queries.ts"
import type { ApiDeps } from "../env.ts"
import { notFound } from "../errors.ts"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv, Scope } from "./dashboard-env.ts"
import { type BuildLog, DeploymentPage } from "./deployment-page.tsx"
import { DeploymentsPage, promoteLabel } from "./deployments-page.tsx"
import { readForm } from "./guard.ts"
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

  /** The deployment's deploy-time build: its state and its latest claim's log. */
  const buildLog = async (row: DeploymentView): Promise<BuildLog> => {
    const events = await deps.sql<DeploymentBuildEventRow[]>`
      select * from deployment_build_events
      where deployment_id = ${row.id} and attempt = ${row.buildAttempts}
      order by id limit 1000`
    return { build: presentBuild(row), events }
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
          build={await buildLog(row)}
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
      const form = await readForm(c)
      const result = await promoteDeployment(deps, scope.caller, c.req.param("id"), {
        allowMissingSecrets: form.allowMissingSecrets === "true",
      })
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
