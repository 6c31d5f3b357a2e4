import {
  CreateScheduleBody,
  ListScheduleSlotsQuery,
  ListSchedulesQuery,
  type SchedulePolicy,
  type ScheduleRunOptions,
  storedPolicy,
  UpdateScheduleBody,
} from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv, Caller } from "../env.ts"
import { notFound } from "../errors.ts"
import { decodeCursor, encodeCursor } from "../http/cursor.ts"
import { validJson, validParams, validQuery } from "../http/validate.ts"
import type { TaskCatalog } from "../runs/task-catalog.ts"
import { checkDefinition, type ScheduleDefinition } from "../schedules/schedule-definition.ts"
import { listSlots } from "../schedules/schedule-slots.ts"
import {
  findSchedule,
  type ScheduleViewRow,
  scheduleViewFrom,
  toSchedule,
} from "../schedules/schedule-view.ts"
import {
  deleteSchedule,
  setScheduleActive,
  updateSchedule,
  upsertSchedule,
} from "../schedules/schedule-writes.ts"

const ScheduleParams = z.object({ idOrKey: z.string() })
const NoBody = z.strictObject({})

const definitionOf = (
  body: {
    task: string
    cron: string
    timezone?: string | undefined
    externalId?: string | null | undefined
    runOptions?: ScheduleRunOptions | undefined
  } & SchedulePolicy,
): ScheduleDefinition => ({
  taskId: body.task,
  cron: body.cron.trim().replace(/\s+/g, " "),
  timezone: body.timezone ?? "UTC",
  externalId: body.externalId ?? null,
  runOptions: body.runOptions ?? {},
  policy: storedPolicy({
    overlap: body.overlap,
    catchupWindow: body.catchupWindow,
    pauseAfterFailures: body.pauseAfterFailures,
  }),
})

/** Imperative schedules of the environment; declarative ones are listed but never written. */
export function schedulesRoutes(deps: ApiDeps, catalog: TaskCatalog): Hono<AppEnv> {
  const setActive = async (caller: Caller, idOrKey: string, active: boolean) => {
    const now = new Date()
    return toSchedule(await setScheduleActive(deps, caller, idOrKey, active, now), now)
  }
  return new Hono<AppEnv>()
    .post("/schedules", validJson(CreateScheduleBody), async (c) => {
      const body = c.req.valid("json")
      const def = definitionOf(body)
      await checkDefinition(catalog, c.get("caller"), def)
      const now = new Date()
      const { view, created } = await upsertSchedule(
        deps,
        c.get("caller"),
        body.deduplicationKey,
        def,
        now,
      )
      return c.json(toSchedule(view, now), created ? 201 : 200)
    })
    .get("/schedules", validQuery(ListSchedulesQuery), async (c) => {
      const query = c.req.valid("query")
      const limit = query.limit ?? 20
      const conditions = [deps.sql`i.environment_id = ${c.get("caller").environmentId}`]
      if (query.task) conditions.push(deps.sql`s.task_id = ${query.task}`)
      if (query.kind) conditions.push(deps.sql`s.kind = ${query.kind}`)
      if (query.cursor) {
        const after = decodeCursor(query.cursor)
        conditions.push(
          deps.sql`(i.created_at, i.id) > (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id})`,
        )
      }
      const where = conditions.reduce((all, next) => deps.sql`${all} and ${next}`)
      const rows = await deps.sql<ScheduleViewRow[]>`
        ${scheduleViewFrom(deps.sql)} where ${where}
        order by i.created_at, i.id limit ${limit + 1}`
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      const now = new Date()
      return c.json({
        data: page.map((row) => toSchedule(row, now)),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ micros: last.createdMicros, id: last.instanceId })
            : null,
      })
    })
    .get("/schedules/:idOrKey", validParams(ScheduleParams), async (c) => {
      const { idOrKey } = c.req.valid("param")
      const view = await findSchedule(deps.sql, c.get("caller").environmentId, idOrKey)
      if (!view) throw notFound(`schedule ${idOrKey}`)
      return c.json(toSchedule(view, new Date()))
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
        const body = c.req.valid("json")
        const def = definitionOf(body)
        // 404 and 409 (declarative) before the definition's 422s: a missing schedule is the
        // first thing wrong with the request.
        const existing = await findSchedule(deps.sql, c.get("caller").environmentId, idOrKey)
        if (!existing) throw notFound(`schedule ${idOrKey}`)
        if (existing.kind === "imperative") await checkDefinition(catalog, c.get("caller"), def)
        const now = new Date()
        const view = await updateSchedule(deps, c.get("caller"), idOrKey, def, now)
        return c.json(toSchedule(view, now))
      },
    )
    .post(
      "/schedules/:idOrKey/activate",
      validParams(ScheduleParams),
      validJson(NoBody),
      async (c) => c.json(await setActive(c.get("caller"), c.req.valid("param").idOrKey, true)),
    )
    .post(
      "/schedules/:idOrKey/deactivate",
      validParams(ScheduleParams),
      validJson(NoBody),
      async (c) => c.json(await setActive(c.get("caller"), c.req.valid("param").idOrKey, false)),
    )
    .delete("/schedules/:idOrKey", validParams(ScheduleParams), async (c) => {
      const view = await deleteSchedule(deps, c.get("caller"), c.req.valid("param").idOrKey)
      return c.json({ id: view.id, deleted: true as const })
    })
}
