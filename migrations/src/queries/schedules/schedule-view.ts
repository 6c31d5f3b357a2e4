import type { RunStatus, Schedule } from "@helmr/sdk/contract"
import { formatDurationMs } from "@helmr/sdk/contract"
import type { Sql, TransactionSql } from "../../db.ts"
import type { ScheduleInstanceRow, ScheduleRow } from "../../rows.ts"
import type { ScheduleMath } from "./schedule-definition.ts"

/** A logical schedule joined with its instance in one environment. */
export type ScheduleViewRow = ScheduleRow &
  Pick<
    ScheduleInstanceRow,
    | "active"
    | "runOptions"
    | "nextFireAt"
    | "lastFiredAt"
    | "version"
    | "overlap"
    | "catchupWindowMs"
    | "pauseAfterFailures"
    | "consecutiveFailures"
    | "failureRunIds"
    | "inactiveReason"
    | "slotsFired"
    | "slotsFailed"
    | "slotsSkippedMissed"
    | "slotsSkippedOverlap"
    | "slotsSkippedCatchupWindow"
  > & {
    instanceId: string
    createdMicros: string
    lastRunId: string | null
    lastRunStatus: RunStatus | null
  }

/** How many next fire times a schedule response carries. */
export const UPCOMING_COUNT = 5

type Tx = Sql | TransactionSql

/** The select list and join every schedule read shares. */
export function scheduleViewFrom(sql: Tx) {
  return sql`
    select s.id, s.project_id, s.kind, s.task_id, s.cron, s.timezone, s.deduplication_key,
      s.external_id, i.id as instance_id, i.active, i.run_options, i.next_fire_at,
      i.last_fired_at, i.version, i.created_at, greatest(s.updated_at, i.updated_at) as updated_at,
      (extract(epoch from i.created_at) * 1000000)::bigint::text as created_micros,
      i.overlap, i.catchup_window_ms, i.pause_after_failures, i.consecutive_failures,
      i.failure_run_ids, i.inactive_reason, i.slots_fired, i.slots_failed,
      i.slots_skipped_missed, i.slots_skipped_overlap, i.slots_skipped_catchup_window,
      lr.id as last_run_id, lr.status as last_run_status
    from schedule_instances i join schedules s on s.id = i.schedule_id
    left join lateral (
      select r.id, r.status from runs r
      where r.schedule_instance_id = i.id
      order by r.slot_at desc limit 1
    ) lr on true`
}

/**
 * The environment's schedule by logical id or deduplication key (an id match wins), or null.
 * `lock` takes the instance row for update.
 */
export async function findSchedule(
  sql: Tx,
  environmentId: string,
  idOrKey: string,
  lock = false,
): Promise<ScheduleViewRow | null> {
  const [row] = await sql<ScheduleViewRow[]>`
    ${scheduleViewFrom(sql)}
    where i.environment_id = ${environmentId}
      and (s.id = ${idOrKey} or s.deduplication_key = ${idOrKey})
    order by (s.id = ${idOrKey}) desc
    limit 1
    ${lock ? sql`for update of i` : sql``}`
  return row ?? null
}

/** The wire shape, with `upcoming` computed from `now` (none while inactive). */
export function toSchedule(row: ScheduleViewRow, now: Date, math: ScheduleMath): Schedule {
  let upcoming: string[] = []
  if (row.active) {
    try {
      upcoming = math
        .nextOccurrences(row.cron, row.timezone, now, UPCOMING_COUNT)
        .map((d) => d.toISOString())
    } catch {
      // A stored definition this parser refuses (only possible for rows written elsewhere)
      // shows no upcoming fires rather than failing the read.
      upcoming = []
    }
  }
  return {
    id: row.id,
    instanceId: row.instanceId,
    kind: row.kind,
    task: row.taskId,
    cron: row.cron,
    timezone: row.timezone,
    deduplicationKey: row.deduplicationKey,
    externalId: row.externalId,
    active: row.active,
    inactiveReason: row.active ? null : (row.inactiveReason ?? "manual"),
    runOptions: row.runOptions,
    overlap: row.overlap,
    catchupWindow:
      row.catchupWindowMs === null ? null : formatDurationMs(Number(row.catchupWindowMs)),
    pauseAfterFailures: row.pauseAfterFailures,
    failures: { consecutive: row.consecutiveFailures, runIds: row.failureRunIds },
    counters: {
      fired: Number(row.slotsFired),
      failed: Number(row.slotsFailed),
      skipped: {
        missed: Number(row.slotsSkippedMissed),
        overlap: Number(row.slotsSkippedOverlap),
        catchup_window: Number(row.slotsSkippedCatchupWindow),
      },
    },
    lastRunId: row.lastRunId,
    lastRunStatus: row.lastRunStatus,
    nextRun: row.nextFireAt ? row.nextFireAt.toISOString() : null,
    lastRun: row.lastFiredAt ? row.lastFiredAt.toISOString() : null,
    upcoming,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
