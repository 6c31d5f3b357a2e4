import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import { BatchBody, IDENTIFIER_PATTERN, TaskBatchBody } from "@helmr/sdk/contract"
import type { Context } from "hono"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validJson, validParams } from "../http/validate.ts"
import { type BatchTriggerItem, batchTrigger } from "../runs/batch-trigger.ts"

const TaskParams = z.object({ taskId: z.string() })

/** Batch triggers: many runs of one task, or of several, in one request and one transaction. */
export function batchRoutes(deps: ApiDeps, catalog: TaskCatalog): Hono<AppEnv> {
  const answer = async (c: Context<AppEnv>, items: BatchTriggerItem[]) => {
    const runs = await batchTrigger(deps, catalog, c.get("caller"), items)
    const created = runs.filter((r) => r.created).length
    if (created > 0) c.get("metrics").triggered.inc({ source: "batch" }, created)
    return c.json({ runs }, runs.some((r) => r.created) ? 201 : 200)
  }
  return new Hono<AppEnv>()
    .post("/tasks/:taskId/batch", validParams(TaskParams), validJson(TaskBatchBody), async (c) => {
      const { taskId } = c.req.valid("param")
      if (!IDENTIFIER_PATTERN.test(taskId)) throw notFound(`task '${taskId}'`)
      const body = c.req.valid("json")
      // An unknown task is the route's 404, as for a single trigger.
      await catalog.resolve(c.get("caller"), taskId)
      return answer(
        c,
        body.items.map((item) => ({ taskId, payload: item.payload, options: item.options ?? {} })),
      )
    })
    .post("/batch", validJson(BatchBody), async (c) => {
      const body = c.req.valid("json")
      return answer(
        c,
        body.items.map((item) => ({
          taskId: item.task,
          payload: item.payload,
          options: item.options ?? {},
        })),
      )
    })
}
