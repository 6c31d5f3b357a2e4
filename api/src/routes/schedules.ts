import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import {
  createScheduleOp,
  deleteScheduleOp,
  findSchedule,
  listSchedulesOp,
  retrieveScheduleOp,
  type ScheduleContext,
  setScheduleActiveOp,
  updateScheduleOp,
} from "@helmr/migrations/queries/schedules"
import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import {
  CreateScheduleBody,
  ListScheduleSlotsQuery,
  ListSchedulesQuery,
  UpdateScheduleBody,
} from "@helmr/sdk/contract"
import type { Context } from "hono"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validJson, validParams, validQuery } from "../http/validate.ts"
import { listSlots } from "../schedules/schedule-slots.ts"

const ScheduleParams = z.object({ idOrKey: z.string() })
const NoBody = z.strictObject({})

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
    .post("/schedules", validJson(CreateScheduleBody), async (c) => {
      const { schedule, created } = await createScheduleOp(context(c), c.req.valid("json"))
      return c.json(schedule, created ? 201 : 200)
    })
    .get("/schedules", validQuery(ListSchedulesQuery), async (c) => {
      return c.json(await listSchedulesOp(context(c), c.req.valid("query")))
    })
    .get("/schedules/:idOrKey", validParams(ScheduleParams), async (c) => {
      return c.json(await retrieveScheduleOp(context(c), c.req.valid("param").idOrKey))
    })
    .get(
      "/schedules/:idOrKey/slots",
      validParams(ScheduleParams),
      validQuery(ListScheduleSlotsQuery),
      async (c) => {
        const { idOrKey } = c.req.valid("param")
        const view = await findSchedule(deps.sql, c.get("caller").environmentId, idOrKey)
        if (!view) throw notFound(`schedule ${idOrKey}`)
        return c.json(await listSlots(deps.sql, view.instanceId, c.req.valid("query")))
      },
    )
    .put(
      "/schedules/:idOrKey",
      validParams(ScheduleParams),
      validJson(UpdateScheduleBody),
      async (c) => {
        const { idOrKey } = c.req.valid("param")
        return c.json(await updateScheduleOp(context(c), idOrKey, c.req.valid("json")))
      },
    )
    .post(
      "/schedules/:idOrKey/activate",
      validParams(ScheduleParams),
      validJson(NoBody),
      async (c) =>
        c.json(await setScheduleActiveOp(context(c), c.req.valid("param").idOrKey, true)),
    )
    .post(
      "/schedules/:idOrKey/deactivate",
      validParams(ScheduleParams),
      validJson(NoBody),
      async (c) =>
        c.json(await setScheduleActiveOp(context(c), c.req.valid("param").idOrKey, false)),
    )
    .delete("/schedules/:idOrKey", validParams(ScheduleParams), async (c) => {
      return c.json(await deleteScheduleOp(context(c), c.req.valid("param").idOrKey))
    })
}
