import type { Sql, TransactionSql } from "../../db.ts"
import { newId } from "../../ids.ts"
import type { ScheduleRow } from "../../rows.ts"
import {
  putScheduleEntry,
  removeScheduleEntry,
  type Valkey,
  type ValkeyKeys,
} from "../../valkey/index.ts"
import { notFound, OperationError } from "../operation-error.ts"
import {
  logicalChanged,
  policyChanged,
  type ScheduleDefinition,
  type ScheduleMath,
  sameRunOptions,
} from "./schedule-definition.ts"
import { findSchedule, type ScheduleViewRow } from "./schedule-view.ts"

/** What the writes need; the API and the runner (runtime client) pass their own. */
export interface ScheduleDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  logger: { warn(fields: object, message: string): void }
  math: ScheduleMath
}

/** Whose schedules: the project and environment of the API key or of the run. */
export interface Caller {
  projectId: string
  environmentId: string
}

/**
 * Imperative schedule writes. Each runs in one transaction holding the instance row, bumps
 * `schedule_instances.version` (so a dispatcher lease taken before is superseded), sets
 * `next_fire_at`, and after the commit puts or removes the instance's Valkey entry. A write that
 * changes nothing writes nothing. Declarative schedules are refused (409 `declarative_schedule`).
 * Shared by the API and the runner (a task's `schedules.*`), so both write alike.
 *
 * The logical schedule (task, cron, timezone, externalId) is shared by every environment's
 * instance; a write from one environment never changes another's: changing the shared part while
 * other environments hold instances is a 409.
 */

export interface WriteResult {
  view: ScheduleViewRow
  created: boolean
}

/** `POST /schedules`: upsert by deduplication key. */
export async function upsertSchedule(
  deps: ScheduleDeps,
  caller: Caller,
  deduplicationKey: string,
  def: ScheduleDefinition,
  now: Date,
): Promise<WriteResult> {
  const result = await deps.sql.begin(async (tx) => {
    const [inserted] = await tx<ScheduleRow[]>`
      insert into schedules (id, project_id, kind, task_id, cron, timezone, deduplication_key, external_id)
      values (${newId("sched")}, ${caller.projectId}, 'imperative', ${def.taskId}, ${def.cron},
        ${def.timezone}, ${deduplicationKey}, ${def.externalId})
      on conflict (project_id, deduplication_key) do nothing
      returning *`
    const [schedule] = inserted
      ? [inserted]
      : await tx<ScheduleRow[]>`
          select * from schedules
          where project_id = ${caller.projectId} and deduplication_key = ${deduplicationKey}
          for update`
    if (!schedule) throw new Error("schedule vanished inside its transaction")
    if (schedule.kind === "declarative") throw declarative(deduplicationKey)
    const [instance] = await tx<{ id: string }[]>`
      select id from schedule_instances
      where schedule_id = ${schedule.id} and environment_id = ${caller.environmentId}
      for update`
    if (!instance) {
      if (!inserted) await changeLogical(tx, schedule, caller.environmentId, def)
      const instanceId = newId("schedi")
      await tx`
        insert into schedule_instances (id, schedule_id, environment_id, active, run_options,
          next_fire_at, overlap, catchup_window_ms, pause_after_failures)
        values (${instanceId}, ${schedule.id}, ${caller.environmentId}, true,
          ${tx.json(def.runOptions as never)}, ${deps.math.nextOccurrence(def.cron, def.timezone, now)},
          ${def.policy.overlap}, ${def.policy.catchupWindowMs}, ${def.policy.pauseAfterFailures})`
      return { view: await mustFind(tx, caller.environmentId, schedule.id), created: true }
    }
    const view = await mustFind(tx, caller.environmentId, schedule.id, true)
    return {
      view: await applyDefinition(tx, deps.math, caller.environmentId, view, def, now),
      created: false,
    }
  })
  await syncEntry(deps, result.view)
  return result
}

/** `PUT /schedules/{idOrKey}`: replaces the definition of the environment's schedule. */
export async function updateSchedule(
  deps: ScheduleDeps,
  caller: Caller,
  idOrKey: string,
  def: ScheduleDefinition,
  now: Date,
): Promise<ScheduleViewRow> {
  const view = await deps.sql.begin(async (tx) => {
    const current = await findWritable(tx, caller.environmentId, idOrKey)
    return applyDefinition(tx, deps.math, caller.environmentId, current, def, now)
  })
  await syncEntry(deps, view)
  return view
}

/**
 * `POST /schedules/{idOrKey}/activate|deactivate`. Activation clears the failure streak: it is
 * how a schedule paused by `pauseAfterFailures` resumes, and the one write allowed on a
 * declarative schedule, only while it is paused by failures (promoting a deployment resumes it
 * too; docs/schedules.md).
 */
export async function setScheduleActive(
  deps: ScheduleDeps,
  caller: Caller,
  idOrKey: string,
  active: boolean,
  now: Date,
): Promise<ScheduleViewRow> {
  const view = await deps.sql.begin(async (tx) => {
    const current = await findSchedule(tx, caller.environmentId, idOrKey, true)
    if (!current) throw notFound(`schedule ${idOrKey}`)
    const pausedByFailures = !current.active && current.inactiveReason === "failures"
    if (current.kind === "declarative" && !(active && pausedByFailures)) {
      throw declarative(idOrKey)
    }
    if (current.active === active) return current
    const next = active ? deps.math.nextOccurrence(current.cron, current.timezone, now) : null
    await tx`
      update schedule_instances
      set active = ${active}, next_fire_at = ${next}, version = version + 1, updated_at = now(),
        inactive_reason = ${active ? null : "manual"},
        consecutive_failures = case when ${active} then 0 else consecutive_failures end,
        failure_run_ids = case when ${active} then '{}' else failure_run_ids end
      where id = ${current.instanceId}`
    return mustFind(tx, caller.environmentId, current.id)
  })
  await syncEntry(deps, view)
  return view
}

/** `DELETE /schedules/{idOrKey}`: removes this environment's instance, and the logical schedule
 * once no environment holds one. */
export async function deleteSchedule(
  deps: ScheduleDeps,
  caller: Caller,
  idOrKey: string,
): Promise<ScheduleViewRow> {
  const view = await deps.sql.begin(async (tx) => {
    const current = await findWritable(tx, caller.environmentId, idOrKey)
    await tx`delete from schedule_instances where id = ${current.instanceId}`
    await tx`
      delete from schedules s where s.id = ${current.id}
        and not exists (select 1 from schedule_instances i where i.schedule_id = s.id)`
    return current
  })
  await removeEntry(deps, view.instanceId)
  return view
}

async function applyDefinition(
  tx: TransactionSql,
  math: ScheduleMath,
  environmentId: string,
  current: ScheduleViewRow,
  def: ScheduleDefinition,
  now: Date,
): Promise<ScheduleViewRow> {
  const logical = logicalChanged(current, def)
  const options =
    !sameRunOptions(current.runOptions, def.runOptions) || policyChanged(current, def.policy)
  if (!logical && !options) return current
  if (logical) await changeLogical(tx, current, environmentId, def)
  // A new cron or zone starts from now; an options-only change keeps the pending slot.
  const timingChanged = current.cron !== def.cron || current.timezone !== def.timezone
  const next = !current.active
    ? null
    : timingChanged || !current.nextFireAt
      ? math.nextOccurrence(def.cron, def.timezone, now)
      : current.nextFireAt
  await tx`
    update schedule_instances
    set run_options = ${tx.json(def.runOptions as never)}, next_fire_at = ${next},
      overlap = ${def.policy.overlap}, catchup_window_ms = ${def.policy.catchupWindowMs},
      pause_after_failures = ${def.policy.pauseAfterFailures},
      version = version + 1, updated_at = now()
    where id = ${current.instanceId}`
  return mustFind(tx, environmentId, current.id)
}

/** Changes the project-wide part, refusing when another environment holds an instance. */
async function changeLogical(
  tx: TransactionSql,
  schedule: {
    id: string
    taskId: string
    cron: string
    timezone: string
    externalId: string | null
  },
  environmentId: string,
  def: ScheduleDefinition,
): Promise<void> {
  if (!logicalChanged(schedule, def)) return
  const [shared] = await tx`
    select 1 from schedule_instances where schedule_id = ${schedule.id} and environment_id <> ${environmentId}
    limit 1`
  if (shared) {
    throw new OperationError(
      409,
      "conflict",
      "this schedule's task, cron, timezone and externalId are shared with other environments of the project; change it where it is used, or use another deduplicationKey",
    )
  }
  await tx`
    update schedules set task_id = ${def.taskId}, cron = ${def.cron}, timezone = ${def.timezone},
      external_id = ${def.externalId}, updated_at = now()
    where id = ${schedule.id}`
}

async function findWritable(
  tx: TransactionSql,
  environmentId: string,
  idOrKey: string,
): Promise<ScheduleViewRow> {
  const current = await findSchedule(tx, environmentId, idOrKey, true)
  if (!current) throw notFound(`schedule ${idOrKey}`)
  if (current.kind === "declarative") throw declarative(idOrKey)
  return current
}

async function mustFind(
  tx: TransactionSql,
  environmentId: string,
  scheduleId: string,
  lock = false,
): Promise<ScheduleViewRow> {
  const view = await findSchedule(tx, environmentId, scheduleId, lock)
  if (!view) throw new Error(`schedule ${scheduleId} vanished inside its transaction`)
  return view
}

/** The refusal every write of a declarative schedule gets (the dashboard refuses with it too). */
export function declarative(idOrKey: string): OperationError {
  return new OperationError(
    409,
    "declarative_schedule",
    `schedule ${idOrKey} is declarative: it is owned by task source (schedules.task); change the task and deploy again`,
  )
}

/** After the commit: Valkey mirrors the instance (the dispatcher repairs it if this fails). */
async function syncEntry(deps: ScheduleDeps, view: ScheduleViewRow): Promise<void> {
  if (!view.active || !view.nextFireAt) return removeEntry(deps, view.instanceId)
  try {
    await putScheduleEntry(deps.valkey, deps.keys, {
      instanceId: view.instanceId,
      version: view.version,
      nextFireAt: view.nextFireAt,
    })
  } catch (error) {
    deps.logger.warn({ err: error, instanceId: view.instanceId }, "schedule entry not written")
  }
}

async function removeEntry(deps: ScheduleDeps, instanceId: string): Promise<void> {
  try {
    await removeScheduleEntry(deps.valkey, deps.keys, instanceId)
  } catch (error) {
    deps.logger.warn({ err: error, instanceId }, "schedule entry not removed")
  }
}
