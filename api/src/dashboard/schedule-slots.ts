import type { Sql } from "@helmr/migrations/db"
import type { SlotOutcome } from "@helmr/migrations/rows"

export interface SlotView {
  slotAt: Date
  lastSlotAt: Date | null
  slotCount: number | null
  outcome: SlotOutcome
  runId: string | null
  attempts: number
  /** Why a slot was skipped or failed. */
  error: string | null
  recordedAt: Date
}

export type SlotCounters = Record<SlotOutcome, number>

/**
 * The slot ledger of one schedule instance, newest first, and how many slots each outcome
 * counts (a skipped range counts every slot it stands for). Display only: the dispatcher writes
 * `schedule_slots`.
 */
export async function listSlots(
  sql: Sql,
  instanceId: string,
  limit = 50,
): Promise<{ slots: SlotView[]; counters: SlotCounters }> {
  const slots = await sql<SlotView[]>`
    select slot_at, last_slot_at, slot_count, outcome, run_id, attempts, error, recorded_at
    from schedule_slots where instance_id = ${instanceId}
    order by slot_at desc limit ${limit}`
  const totals = await sql<{ outcome: SlotOutcome; slots: string }[]>`
    select outcome, sum(coalesce(slot_count, 1))::text as slots
    from schedule_slots where instance_id = ${instanceId} group by outcome`
  const counters: SlotCounters = { fired: 0, skipped: 0, failed: 0 }
  for (const row of totals) counters[row.outcome] = Number(row.slots)
  return { slots, counters }
}
