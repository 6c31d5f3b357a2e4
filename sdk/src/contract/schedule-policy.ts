import { z } from "zod"
import { DurationString, durationMs } from "./duration.ts"

/**
 * Flow control of a schedule instance, the one owner of these rules: the SDK's
 * `schedules.task()`, the manifest, the API and the dispatcher all read them from here.
 * Semantics are in docs/schedules.md.
 */

/**
 * What a slot does while the instance's previous run is still active (queued, starting, running
 * or waiting): `allow` starts another run (default); `skip` records the slot skipped (reason
 * `overlap`); `bufferOne` makes the slot's run wait until the active run ends (one at most: further
 * slots are skipped); `cancelPrevious` cancels the active run, and the slot's run starts once it
 * has ended.
 *
 * @example
 * ```ts
 * Overlap.parse("skip")
 * ```
 */
export const Overlap = z.enum(["allow", "skip", "bufferOne", "cancelPrevious"])
export type Overlap = z.infer<typeof Overlap>

const YEAR_SECONDS = 31_536_000

/**
 * How late a slot may still fire: a duration (`30s`, `5m`, `1h30m`) or whole seconds, at most a
 * year. A slot reached later than this after its nominal time is skipped (reason
 * `catchup_window`) instead of fired.
 *
 * @example
 * ```ts
 * CatchupWindow.parse("10m"); CatchupWindow.parse(600)
 * ```
 */
export const CatchupWindow = z
  .union([DurationString, z.number().int().min(1).max(YEAR_SECONDS)], {
    error: "must be a duration such as 30s, 5m or 1h30m, or whole seconds (1-31536000)",
  })
  .refine((value) => {
    const ms = catchupWindowMs(value)
    return ms >= 1_000 && ms <= YEAR_SECONDS * 1000
  }, "must be between 1s and 365d")
export type CatchupWindow = z.infer<typeof CatchupWindow>

/**
 * Deactivate the instance after this many consecutive scheduled runs end `failed`, `crashed` or
 * `timed_out` (1-1000).
 *
 * @example
 * ```ts
 * PauseAfterFailures.parse(3)
 * ```
 */
export const PauseAfterFailures = z.number().int().min(1).max(1000)

/**
 * The flow-control fields a schedule is written with (API create/update, `schedules.task()`).
 *
 * @example
 * ```ts
 * SchedulePolicy.parse({ overlap: "bufferOne", catchupWindow: "5m", pauseAfterFailures: 3 })
 * ```
 */
export const SchedulePolicy = z.strictObject({
  overlap: Overlap.optional(),
  catchupWindow: CatchupWindow.optional(),
  pauseAfterFailures: PauseAfterFailures.optional(),
})
export type SchedulePolicy = z.infer<typeof SchedulePolicy>

/**
 * The policy as stored on an instance (the columns `overlap`, `catchup_window_ms`,
 * `pause_after_failures`): omitted fields are their defaults.
 *
 * @example
 * ```ts
 * storedPolicy({ catchupWindow: "5m" }) // { overlap: "allow", catchupWindowMs: 300000, pauseAfterFailures: null }
 * ```
 */
export function storedPolicy(policy: SchedulePolicy | undefined): StoredPolicy {
  return {
    overlap: policy?.overlap ?? "allow",
    catchupWindowMs:
      policy?.catchupWindow === undefined ? null : catchupWindowMs(policy.catchupWindow),
    pauseAfterFailures: policy?.pauseAfterFailures ?? null,
  }
}

/**
 * An instance's stored policy.
 *
 * @example
 * ```ts
 * const policy: StoredPolicy = { overlap: "skip", catchupWindowMs: null, pauseAfterFailures: 2 }
 * ```
 */
export interface StoredPolicy {
  overlap: Overlap
  catchupWindowMs: number | null
  pauseAfterFailures: number | null
}

/**
 * Milliseconds of a catch-up window (a duration string or whole seconds).
 *
 * @example
 * ```ts
 * catchupWindowMs("1h30m") // 5_400_000
 * ```
 */
export function catchupWindowMs(value: string | number): number {
  return durationMs(value) ?? Number.NaN
}

const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
] as const

/**
 * Milliseconds as the shortest duration string (`5400000` → `1h30m`), how a window is shown.
 *
 * @example
 * ```ts
 * formatDurationMs(90_000) // "1m30s"
 * ```
 */
export function formatDurationMs(ms: number): string {
  let rest = Math.max(0, Math.round(ms))
  if (rest === 0) return "0s"
  let text = ""
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size)
    if (amount > 0) {
      text += `${amount}${unit}`
      rest -= amount * size
    }
  }
  return text
}

/**
 * Why a slot was skipped (`missed`: it passed while no dispatcher could fire it, the product's
 * no-backfill rule; `overlap`; `catchup_window`) or how a fired slot ran (`buffered`: its run
 * waited for the previous one; `canceled_previous`: the previous run was canceled for it).
 *
 * @example
 * ```ts
 * SlotReason.parse("overlap")
 * ```
 */
export const SlotReason = z.enum([
  "missed",
  "overlap",
  "catchup_window",
  "buffered",
  "canceled_previous",
])
export type SlotReason = z.infer<typeof SlotReason>

/**
 * Statuses during which a scheduled run counts as the instance's active run for `overlap`.
 *
 * @example
 * ```ts
 * OVERLAP_ACTIVE_STATUSES.includes("running") // true
 * ```
 */
export const OVERLAP_ACTIVE_STATUSES = ["queued", "starting", "running", "waiting"] as const

/**
 * Final statuses that count toward `pauseAfterFailures`; `succeeded` resets the count, while
 * `canceled` and `expired` (the run never ran to an outcome) leave it as it is.
 *
 * @example
 * ```ts
 * FAILURE_STATUSES.includes("timed_out") // true
 * ```
 */
export const FAILURE_STATUSES = ["failed", "crashed", "timed_out"] as const
