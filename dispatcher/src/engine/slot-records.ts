import type { SlotReason } from "@helmr/sdk/contract"
import type { planFire } from "../schedule/plan.ts"
import type { SlotRecord } from "./fire-sql.ts"

/** The `schedule_slots` rows a decision writes (pure). */

export function slotRecord(
  instanceId: string,
  slotAt: Date,
  outcome: SlotRecord["outcome"],
  extra: { runId?: string; attempts: number; error?: string; reason?: SlotReason | null },
): SlotRecord {
  return {
    instanceId,
    slotAt,
    outcome,
    reason: extra.reason ?? null,
    runId: extra.runId ?? null,
    attempts: extra.attempts,
    error: extra.error ?? null,
    lastSlotAt: null,
    slotCount: 1,
  }
}

export function skippedRecords(
  instanceId: string,
  skipped: ReturnType<typeof planFire>["skipped"],
): SlotRecord[] {
  if (!skipped) return []
  return [
    {
      instanceId,
      slotAt: skipped.first,
      outcome: "skipped",
      reason: "missed",
      runId: null,
      attempts: 0,
      error: null,
      lastSlotAt: skipped.last,
      slotCount: skipped.complete ? skipped.count : null,
    },
  ]
}
