import { callRuntime } from "./rpc.ts"

/**
 * Durable time waits. The run goes `waiting` (holding no runner slot) and its runner resumes it
 * at the time; the sandbox stays alive meanwhile, so code before the wait is not run again.
 */

/**
 * A wait's length; the fields add up (`{ hours: 1, minutes: 30 }`).
 *
 * @example
 * ```ts
 * const d: WaitDuration = { minutes: 5 }
 * ```
 */
export interface WaitDuration {
  seconds?: number
  minutes?: number
  hours?: number
  days?: number
}

const UNIT_MS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const

/**
 * Milliseconds of a wait duration; throws a RangeError naming the bad field.
 *
 * @example
 * ```ts
 * waitDurationMs({ minutes: 1, seconds: 30 }) // 90_000
 * ```
 */
export function waitDurationMs(duration: WaitDuration): number {
  let total = 0
  let given = 0
  for (const [unit, ms] of Object.entries(UNIT_MS)) {
    const value = duration[unit as keyof WaitDuration]
    if (value === undefined) continue
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`timers.wait: ${unit} must be a finite number ≥ 0, got ${String(value)}`)
    }
    given += 1
    total += value * ms
  }
  if (given === 0) throw new RangeError("timers.wait: give seconds, minutes, hours or days")
  return Math.round(total)
}

/**
 * Durable waits of the current run.
 *
 * @example
 * ```ts
 * import { timers } from "@helmr/sdk"
 * await timers.wait({ seconds: 30 })
 * await timers.waitUntil(new Date("2026-06-01T09:00:00Z"))
 * ```
 */
export const timers = {
  /**
   * Waits this long; resumes once (within a second of the time). At most 365 days.
   *
   * @example
   * await timers.wait({ hours: 1 })
   */
  async wait(duration: WaitDuration): Promise<void> {
    await callRuntime("timers.wait", "timers.wait", { ms: waitDurationMs(duration) })
  },

  /**
   * Waits until a time; a past time returns at once.
   *
   * @example
   * await timers.waitUntil(new Date(Date.now() + 60_000))
   */
  async waitUntil(date: Date | string): Promise<void> {
    const at = typeof date === "string" ? new Date(date) : date
    if (!(at instanceof Date) || !Number.isFinite(at.getTime())) {
      throw new RangeError(`timers.waitUntil: not a valid date: ${String(date)}`)
    }
    await callRuntime("timers.waitUntil", "timers.wait", { until: at.toISOString() })
  },
}
