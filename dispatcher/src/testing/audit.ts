import type { Sql } from "@helmr/migrations/db"
import { oracleSlots } from "../schedule/brute-force-oracle.ts"

/**
 * The accounting every fault test and the benchmark ends with, computed from Postgres and the
 * brute-force oracle only (not from the code under test): for each instance, every slot from its
 * first cursor up to its current cursor must be fired (exactly one run), failed, or inside a
 * skipped range (missed, or skipped by overlap or the catch-up window: counted by reason) — and
 * no run may exist for any other slot.
 */

const MINUTE = 60_000
// Many instances share one cron and window (benchmarks seed thousands alike): walk each once.
const oracleCache = new Map<string, number[]>()

export interface AuditedInstance {
  instanceId: string
  cron: string
  timezone: string
  /** The cursor the instance started from (its first slot). */
  firstSlot: Date
  /**
   * Slots of an earlier definition (before an edit moved the cursor) that may hold one run
   * each but are not owed: fired before the edit, or superseded by it.
   */
  alsoAllowed?: readonly Date[]
  /**
   * The cursor to audit up to, for an instance deactivated before the audit (deactivation clears
   * `next_fire_at`); default: the instance's current cursor.
   */
  until?: Date
}

export interface AuditResult {
  instances: number
  expectedSlots: number
  fired: number
  failed: number
  skipped: number
  /**
   * Skipped slots by reason: `missed` (downtime, backlog), `overlap`, `catchup_window`. A slot
   * skipped by a policy has no run, like one missed: both count as accounted for.
   */
  skippedByReason: Record<string, number>
  /** Fired slots whose run was held behind the previous one (bufferOne, cancelPrevious). */
  firedByReason: Record<string, number>
  /** Slots with more than one run. */
  duplicates: string[]
  /** Slots owed but neither fired, failed nor skipped. */
  lost: string[]
  /** Runs for slots that were never owed, and fired rows that disagree with the runs. */
  unexpected: string[]
}

interface RunSlot {
  instanceId: string
  slotAt: Date
  id: string
}
interface SlotRow {
  instanceId: string
  slotAt: Date
  outcome: "fired" | "skipped" | "failed"
  reason: string | null
  runId: string | null
  lastSlotAt: Date | null
}

export async function auditSlots(
  sql: Sql,
  instances: readonly AuditedInstance[],
): Promise<AuditResult> {
  const ids = instances.map((i) => i.instanceId)
  const [runs, slots, cursors] = await Promise.all([
    sql<RunSlot[]>`select schedule_instance_id as instance_id, slot_at, id from runs
      where schedule_instance_id = any(${ids}::text[])`,
    sql<
      SlotRow[]
    >`select instance_id, slot_at, outcome, reason, run_id, last_slot_at from schedule_slots
      where instance_id = any(${ids}::text[])`,
    sql<{ id: string; nextFireAt: Date | null }[]>`select id, next_fire_at from schedule_instances
      where id = any(${ids}::text[])`,
  ])
  const group = <T extends { instanceId: string }>(rows: readonly T[]) => {
    const map = new Map<string, T[]>()
    for (const row of rows) map.set(row.instanceId, [...(map.get(row.instanceId) ?? []), row])
    return map
  }
  const runsOf = group(runs)
  const slotsOf = group(slots)
  const cursorOf = new Map(cursors.map((c) => [c.id, c.nextFireAt]))
  const result: AuditResult = {
    instances: instances.length,
    expectedSlots: 0,
    fired: 0,
    failed: 0,
    skipped: 0,
    skippedByReason: {},
    firedByReason: {},
    duplicates: [],
    lost: [],
    unexpected: [],
  }
  for (const instance of instances) {
    const first = instance.firstSlot.getTime()
    const cursor =
      instance.until?.getTime() ?? cursorOf.get(instance.instanceId)?.getTime() ?? first
    const owed = [first]
    if (cursor - first > 2 * 86_400_000) {
      // The oracle walks minute by minute: audits are for tests and benchmarks of minutes.
      throw new Error(`audit of ${instance.instanceId}: ${new Date(cursor)} is too far to walk`)
    }
    if (cursor > first) {
      const aligned = Math.floor(first / MINUTE) * MINUTE
      const end = Math.ceil(cursor / MINUTE) * MINUTE - MINUTE
      const key = `${instance.cron}|${instance.timezone}|${aligned}|${end}`
      let slots = oracleCache.get(key)
      if (!slots) {
        slots = oracleSlots(instance.cron, instance.timezone, aligned, end)
        oracleCache.set(key, slots)
      }
      for (const t of slots) {
        if (t > first && t < cursor) owed.push(t)
      }
    }
    const label = (t: number) => `${instance.instanceId}@${new Date(t).toISOString()}`
    const runCount = new Map<number, number>()
    for (const run of runsOf.get(instance.instanceId) ?? []) {
      const t = run.slotAt.getTime()
      runCount.set(t, (runCount.get(t) ?? 0) + 1)
    }
    const rows = slotsOf.get(instance.instanceId) ?? []
    const fired = new Set(rows.filter((r) => r.outcome === "fired").map((r) => r.slotAt.getTime()))
    const failed = new Set(
      rows.filter((r) => r.outcome === "failed").map((r) => r.slotAt.getTime()),
    )
    const ranges = rows.filter((r) => r.outcome === "skipped")
    const rangeOf = (t: number) =>
      ranges.find((r) => r.slotAt.getTime() <= t && t <= (r.lastSlotAt ?? r.slotAt).getTime())
    const firedReason = new Map(
      rows.filter((r) => r.outcome === "fired").map((r) => [r.slotAt.getTime(), r.reason]),
    )
    const bump = (counts: Record<string, number>, key: string) => {
      counts[key] = (counts[key] ?? 0) + 1
    }
    const owedSet = new Set(owed)
    const allowed = new Set((instance.alsoAllowed ?? []).map((d) => d.getTime()))
    for (const [t, count] of runCount) {
      if (count > 1) result.duplicates.push(label(t))
      if (!(owedSet.has(t) || allowed.has(t)) || !fired.has(t)) {
        result.unexpected.push(`run ${label(t)}`)
      }
    }
    for (const t of owed) {
      result.expectedSlots++
      const range = rangeOf(t)
      if (fired.has(t) && runCount.get(t) === 1) {
        result.fired++
        const reason = firedReason.get(t)
        if (reason) bump(result.firedByReason, reason)
      } else if (failed.has(t) && !runCount.has(t)) result.failed++
      else if (range && !runCount.has(t)) {
        result.skipped++
        bump(result.skippedByReason, range.reason ?? "missed")
      } else result.lost.push(label(t))
    }
    for (const t of fired) if (!runCount.has(t)) result.unexpected.push(`fired row ${label(t)}`)
  }
  return result
}
