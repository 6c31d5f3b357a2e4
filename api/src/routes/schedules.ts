import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import {
  createScheduleOp,
  deleteScheduleOp,
  listSchedulesOp,
  retrieveScheduleOp,
  type ScheduleContext,
  setScheduleActiveOp,
  updateScheduleOp,
} from "@helmr/migrations/queries/schedules"
import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import { CreateScheduleBody, ListSchedulesQuery, UpdateScheduleBody } from "@helmr/sdk/contract"
import type { Context } from "hono"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { readJson, readQuery } from "../http/validate.ts"

/**
 * Imperative schedules of the environment; declarative ones are listed but never written. The
 * operations are shared with the runner (migrations/src/queries/schedules): a task's
 * `schedules.*` gets exactly these answers.
 */
export function schedulesRoutes(deps: ApiDeps, catalog: TaskCatalog): Hono<AppEnv> {
  const context = (c: Context<AppEnv>): ScheduleContext => {
    const caller = c.get("caller")
    return {
      ...deps,
      math: scheduleMath,
      caller,
      taskKind: (taskId) => catalog.kindOf(caller, taskId),
    }
  }
  return new Hono<AppEnv>()
    .post("/schedules", async (c) => {
      const body = await readJson(c, CreateScheduleBody)
      const { schedule, created } = await createScheduleOp(context(c), body)
      return c.json(schedule, created ? 201 : 200)
    })
    .get("/schedules", async (c) => {
      return c.json(await listSchedulesOp(context(c), readQuery(c, ListSchedulesQuery)))
    })
    .get("/schedules/:idOrKey", async (c) => {
      return c.json(await retrieveScheduleOp(context(c), c.req.param("idOrKey")))
    })
    .put("/schedules/:idOrKey", async (c) => {
      const body = await readJson(c, UpdateScheduleBody)
      return c.json(await updateScheduleOp(context(c), c.req.param("idOrKey"), body))
    })
    .post("/schedules/:idOrKey/activate", async (c) => {
      await readJson(c, z.strictObject({}))
      return c.json(await setScheduleActiveOp(context(c), c.req.param("idOrKey"), true))
    })
    .post("/schedules/:idOrKey/deactivate", async (c) => {
      await readJson(c, z.strictObject({}))
      return c.json(await setScheduleActiveOp(context(c), c.req.param("idOrKey"), false))
    })
    .delete("/schedules/:idOrKey", async (c) => {
      return c.json(await deleteScheduleOp(context(c), c.req.param("idOrKey")))
    })
}
