import type { Sql } from "@helmr/migrations/db"
import { decodeCursor, encodeCursor } from "@helmr/migrations/queries/cursor"
import type {
  ListScheduleSlotsQuery,
  RunStatus,
  ScheduleSlot,
  ScheduleSlotList,
  SlotOutcome,
  SlotReason,
} from "@helmr/sdk/contract"
import { ApiError } from "../errors.ts"

interface SlotViewRow {
  slotAt: Date
  lastSlotAt: Date | null
  slotCount: number | null
  outcome: SlotOutcome
  reason: SlotReason | null
  runId: string | null
  runStatus: RunStatus | null
  recordedAt: Date
  attempts: number
  error: string | null
  slotMicros: string
}

/**
 * `GET /schedules/{id}/slots`: the instance's slot ledger, newest first, keyset-paged on the
 * slot's nominal time (the ledger's primary key). A skipped range is one entry.
 */
export async function listSlots(
  sql: Sql,
  instanceId: string,
  query: Omit<ListScheduleSlotsQuery, "limit"> & { limit?: number | undefined },
): Promise<ScheduleSlotList> {
  const limit = query.limit ?? 20
  const conditions = [sql`ss.instance_id = ${instanceId}`]
  if (query.outcome) conditions.push(sql`ss.outcome = ${query.outcome}`)
  if (query.cursor) {
    const after = decodeCursor(query.cursor)
    if (after.id !== instanceId) {
      throw new ApiError(422, "validation_failed", "invalid cursor: it belongs to another list", [
        { path: "cursor", message: "not a cursor of this schedule's slots" },
      ])
    }
    conditions.push(
      sql`ss.slot_at < timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond'`,
    )
  }
  const where = conditions.reduce((all, next) => sql`${all} and ${next}`)
  const rows = await sql<SlotViewRow[]>`
    select ss.slot_at, ss.last_slot_at, ss.slot_count, ss.outcome, ss.reason, ss.run_id,
      r.status as run_status, ss.recorded_at, ss.attempts, ss.error,
      (extract(epoch from ss.slot_at) * 1000000)::bigint::text as slot_micros
    from schedule_slots ss left join runs r on r.id = ss.run_id
    where ${where}
    order by ss.slot_at desc
    limit ${limit + 1}`
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map(toSlot),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ micros: last.slotMicros, id: instanceId })
        : null,
  }
}

function toSlot(row: SlotViewRow): ScheduleSlot {
  return {
    slotAt: row.slotAt.toISOString(),
    lastSlotAt: row.lastSlotAt ? row.lastSlotAt.toISOString() : null,
    slotCount: row.slotCount,
    outcome: row.outcome,
    reason: row.reason,
    runId: row.runId,
    runStatus: row.runStatus,
    latenessMs: Math.max(0, row.recordedAt.getTime() - row.slotAt.getTime()),
    recordedAt: row.recordedAt.toISOString(),
    attempts: row.attempts,
    error: row.error,
  }
}
