import { z } from "zod"
import { Cursor, PageLimit, pageOf, Timestamp } from "./common.ts"
import { RunStatus } from "./runs.ts"
import { SlotReason } from "./schedule-policy.ts"

/**
 * What happened to a slot: `fired` (a run was made), `skipped` (no run, see `reason`), `failed`
 * (the dispatcher could not start a run after its attempts; see `error`).
 *
 * @example
 * ```ts
 * SlotOutcome.parse("skipped")
 * ```
 */
export const SlotOutcome = z.enum(["fired", "skipped", "failed"])
export type SlotOutcome = z.infer<typeof SlotOutcome>

/**
 * One entry of `GET /api/v1/schedules/{id}/slots`. Slots skipped together because nobody could
 * fire them (`missed`: downtime, backlog) are one entry: `slotAt` is the first, `lastSlotAt` the
 * last, `slotCount` how many (null when too many to count; then `lastSlotAt` is when the
 * dispatcher came back).
 *
 * @example
 * ```ts
 * const { data } = ScheduleSlotList.parse(await res.json())
 * const why = data.filter((s: ScheduleSlot) => s.outcome === "skipped").map((s) => s.reason)
 * ```
 */
export const ScheduleSlot = z.object({
  /** The nominal time of the slot (ISO-8601 UTC). */
  slotAt: Timestamp,
  /** The last slot of a skipped range; null for a single slot. */
  lastSlotAt: Timestamp.nullable(),
  slotCount: z.number().int().nullable(),
  outcome: SlotOutcome,
  reason: SlotReason.nullable(),
  runId: z.string().nullable(),
  /** The run's status now (final once it has ended). */
  runStatus: RunStatus.nullable(),
  /** Milliseconds from the nominal time to when the outcome was committed. */
  latenessMs: z.number().int(),
  recordedAt: Timestamp,
  /** Start attempts the dispatcher made. */
  attempts: z.number().int(),
  /** Why a `failed` slot could not start a run. */
  error: z.string().nullable(),
})
export type ScheduleSlot = z.infer<typeof ScheduleSlot>

/**
 * `GET /api/v1/schedules/{id}/slots`: newest first.
 *
 * @example
 * ```ts
 * await client.schedules.slots("nightly-main", { outcome: "skipped", limit: 50 })
 * ```
 */
export const ListScheduleSlotsQuery = z.strictObject({
  outcome: SlotOutcome.optional(),
  limit: PageLimit.optional(),
  cursor: Cursor.optional(),
})
export type ListScheduleSlotsQuery = z.input<typeof ListScheduleSlotsQuery>

/**
 * A page of slots, newest first.
 *
 * @example
 * ```ts
 * const { data, nextCursor } = ScheduleSlotList.parse(await res.json())
 * ```
 */
export const ScheduleSlotList = pageOf(ScheduleSlot)
export type ScheduleSlotList = z.infer<typeof ScheduleSlotList>
