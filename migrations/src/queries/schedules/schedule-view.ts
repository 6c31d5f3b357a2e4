import type { Schedule } from "@helmr/sdk/contract"
import type { Sql, TransactionSql } from "../../db.ts"
import type { ScheduleInstanceRow, ScheduleRow } from "../../rows.ts"
import type { ScheduleMath } from "./schedule-definition.ts"

/** A logical schedule joined with its instance in one environment. */
export type ScheduleViewRow = ScheduleRow &
  Pick<ScheduleInstanceRow, "active" | "runOptions" | "nextFireAt" | "lastFiredAt" | "version"> & {
    instanceId: string
    createdMicros: string
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
      (extract(epoch from i.created_at) * 1000000)::bigint::text as created_micros
    from schedule_instances i join schedules s on s.id = i.schedule_id`
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
    runOptions: row.runOptions,
    nextRun: row.nextFireAt ? row.nextFireAt.toISOString() : null,
    lastRun: row.lastFiredAt ? row.lastFiredAt.toISOString() : null,
    upcoming,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
