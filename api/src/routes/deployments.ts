import {
  CreateDeploymentBody,
  type DeploymentBuildLog,
  type DeploymentList,
  PromoteDeploymentBody,
  type PromoteDeploymentResponse,
} from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import {
  presentBuild,
  presentBuildEvent,
  presentDeployment,
  presentDeploymentDetail,
} from "../deployments/present.ts"
import { promoteDeployment } from "../deployments/promote.ts"
import {
  findDeployment,
  listBuildEvents,
  listDeploymentFiles,
  listDeployments,
} from "../deployments/queries.ts"
import { storeDeployment } from "../deployments/store.ts"
import { verifyUpload } from "../deployments/verify-upload.ts"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validJson, validParams, validQuery } from "../http/validate.ts"

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, "must be a nextCursor from a previous page")
    .transform(Number)
    .optional(),
})

const DeploymentParams = z.object({ id: z.string() })

const BuildLogQuery = z.object({
  after: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,17})$/, "must be an event id (0 for the start of the log)")
    .default("0"),
  limit: z.coerce.number().int().min(1).max(500).default(500),
})

/**
 * `/deployments`: upload (create), list, retrieve, the build log, promote. Everything is scoped to
 * the caller's environment: another environment's deployment is not found.
 */
export function deploymentRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post("/", validJson(CreateDeploymentBody), async (c) => {
      const upload = verifyUpload(c.req.valid("json"))
      const caller = c.get("caller")
      const { deployment, created } = await storeDeployment(deps.sql, caller, upload)
      const view = await findDeployment(deps.sql, caller.environmentId, deployment.id)
      if (!view) throw notFound(`deployment ${deployment.id}`)
      c.get("logger").info({ deploymentId: view.id, created }, "deployment stored")
      return c.json(presentDeployment(view), created ? 201 : 200)
    })
    .get("/", validQuery(ListQuery), async (c) => {
      const { limit, cursor } = c.req.valid("query")
      const rows = await listDeployments(deps.sql, c.get("caller").environmentId, {
        limit: limit + 1,
        beforeVersion: cursor,
      })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      const body: DeploymentList = {
        data: page.map(presentDeployment),
        nextCursor: rows.length > limit && last ? String(last.version) : null,
      }
      return c.json(body)
    })
    .get("/:id", validParams(DeploymentParams), async (c) => {
      const { id } = c.req.valid("param")
      const row = await findDeployment(deps.sql, c.get("caller").environmentId, id)
      if (!row) throw notFound(`deployment ${id}`)
      return c.json(presentDeploymentDetail(row, await listDeploymentFiles(deps.sql, row.id)))
    })
    .get("/:id/build", validParams(DeploymentParams), validQuery(BuildLogQuery), async (c) => {
      const { id } = c.req.valid("param")
      const { after, limit } = c.req.valid("query")
      const row = await findDeployment(deps.sql, c.get("caller").environmentId, id)
      if (!row) throw notFound(`deployment ${id}`)
      const events = await listBuildEvents(deps.sql, row.id, { after, limit })
      const body: DeploymentBuildLog = {
        build: presentBuild(row),
        events: events.map(presentBuildEvent),
        next: events.at(-1)?.id.toString() ?? after,
      }
      return c.json(body)
    })
    .post(
      "/:id/promote",
      validParams(DeploymentParams),
      validJson(PromoteDeploymentBody),
      async (c) => {
        const { id } = c.req.valid("param")
        const { allowMissingSecrets } = c.req.valid("json")
        const result = await promoteDeployment(deps, c.get("caller"), id, { allowMissingSecrets })
        const body: PromoteDeploymentResponse = {
          deployment: presentDeployment(result.deployment),
          changed: result.changed,
          schedules: result.schedules,
        }
        c.get("logger").info(
          { deploymentId: result.deployment.id, changed: result.changed },
          "deployment promoted",
        )
        return c.json(body)
      },
    )
}
