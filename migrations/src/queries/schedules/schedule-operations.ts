import type {
  CreateScheduleBody,
  DeletedSchedule,
  ListSchedulesQuery,
  Schedule,
  ScheduleList,
  SchedulePolicy,
  ScheduleRunOptions,
  UpdateScheduleBody,
} from "@helmr/sdk/contract"
import { storedPolicy } from "@helmr/sdk/contract"
import { decodeCursor, encodeCursor } from "../cursor.ts"
import { notFound } from "../operation-error.ts"
import {
  checkDefinition,
  type ScheduleDefinition,
  type TaskKindLookup,
} from "./schedule-definition.ts"
import {
  findSchedule,
  type ScheduleViewRow,
  scheduleViewFrom,
  toSchedule,
} from "./schedule-view.ts"
import {
  type Caller,
  deleteSchedule,
  type ScheduleDeps,
  setScheduleActive,
  updateSchedule,
  upsertSchedule,
} from "./schedule-writes.ts"

/**
 * The imperative schedule operations with their checks, in the order the API gives them (404 and
 * 409 before a definition's 422s), returning the wire shapes. The API's routes and the runner's
 * runtime client (`schedules.*` inside a run) call these, so a task sees what a client sees.
 * Refusals are OperationErrors.
 */

export interface ScheduleContext extends ScheduleDeps {
  caller: Caller
  taskKind: TaskKindLookup
}

/** A request body as a schedule definition (defaults applied). */
export function definitionOf(
  body: {
    task: string
    cron: string
    timezone?: string | undefined
    externalId?: string | null | undefined
    runOptions?: ScheduleRunOptions | undefined
  } & SchedulePolicy,
): ScheduleDefinition {
  return {
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
  }
}

/** Upsert by deduplication key; `created` says whether the environment's instance is new. */
export async function createScheduleOp(
  ctx: ScheduleContext,
  body: CreateScheduleBody,
): Promise<{ schedule: Schedule; created: boolean }> {
  const def = definitionOf(body)
  await checkDefinition(ctx.math, ctx.taskKind, def)
  const now = new Date()
  const { view, created } = await upsertSchedule(ctx, ctx.caller, body.deduplicationKey, def, now)
  return { schedule: toSchedule(view, now, ctx.math), created }
}

export async function listSchedulesOp(
  ctx: ScheduleContext,
  query: ListSchedulesQuery,
): Promise<ScheduleList> {
  const { sql } = ctx
  const limit = Number(query.limit ?? 20)
  const conditions = [sql`i.environment_id = ${ctx.caller.environmentId}`]
  if (query.task) conditions.push(sql`s.task_id = ${query.task}`)
  if (query.kind) conditions.push(sql`s.kind = ${query.kind}`)
  if (query.cursor) {
    const after = decodeCursor(query.cursor)
    conditions.push(
      sql`(i.created_at, i.id) > (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id})`,
    )
  }
  const where = conditions.reduce((all, next) => sql`${all} and ${next}`)
  const rows = await sql<ScheduleViewRow[]>`
    ${scheduleViewFrom(sql)} where ${where}
    order by i.created_at, i.id limit ${limit + 1}`
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  const now = new Date()
  return {
    data: page.map((row) => toSchedule(row, now, ctx.math)),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ micros: last.createdMicros, id: last.instanceId })
        : null,
  }
}

export async function retrieveScheduleOp(ctx: ScheduleContext, idOrKey: string): Promise<Schedule> {
  const view = await findSchedule(ctx.sql, ctx.caller.environmentId, idOrKey)
  if (!view) throw notFound(`schedule ${idOrKey}`)
  return toSchedule(view, new Date(), ctx.math)
}

export async function updateScheduleOp(
  ctx: ScheduleContext,
  idOrKey: string,
  body: UpdateScheduleBody,
): Promise<Schedule> {
  const def = definitionOf(body)
  // 404 and 409 (declarative) before the definition's 422s: a missing schedule is the first
  // thing wrong with the request.
  const existing = await findSchedule(ctx.sql, ctx.caller.environmentId, idOrKey)
  if (!existing) throw notFound(`schedule ${idOrKey}`)
  if (existing.kind === "imperative") await checkDefinition(ctx.math, ctx.taskKind, def)
  const now = new Date()
  const view = await updateSchedule(ctx, ctx.caller, idOrKey, def, now)
  return toSchedule(view, now, ctx.math)
}

export async function setScheduleActiveOp(
  ctx: ScheduleContext,
  idOrKey: string,
  active: boolean,
): Promise<Schedule> {
  const now = new Date()
  const view = await setScheduleActive(ctx, ctx.caller, idOrKey, active, now)
  return toSchedule(view, now, ctx.math)
}

export async function deleteScheduleOp(
  ctx: ScheduleContext,
  idOrKey: string,
): Promise<DeletedSchedule> {
  const view = await deleteSchedule(ctx, ctx.caller, idOrKey)
  return { id: view.id, deleted: true as const }
}
