import { z } from "zod"
import { MaxAttempts, Tags, TimestampInput } from "./common.ts"
import { DurationString, durationMs, MAX_WAIT_MS } from "./duration.ts"
import { ConcurrencyKey, FlowOptions, QueueOptions, RetryOptions } from "./flow-control.ts"

/**
 * Options a run is started with, owned here for the API (trigger and schedule bodies), the SDK
 * client and the dispatcher (which applies a schedule's options at every fire).
 */

/**
 * A wait before the run may start: a duration (`10s`, `5m`, `1h30m`) or an ISO-8601 time.
 *
 * @example
 * ```ts
 * Delay.parse("5m"); Delay.parse("2026-06-01T09:00:00+02:00")
 * ```
 */
export const Delay = z.union([DurationString, TimestampInput], {
  error: "must be a duration such as 10s, 5m or 1h30m, or an ISO-8601 date-time with offset",
})

/**
 * How long a run may wait to start (from when it may start): a duration or whole seconds.
 *
 * @example
 * ```ts
 * Ttl.parse("1h"); Ttl.parse(3600)
 * ```
 */
export const Ttl = z.union([DurationString, z.number().int().min(1).max(31_536_000)], {
  error: "must be a duration such as 10m or 1h, or whole seconds (1-31536000)",
})

/**
 * True when a ttl lies between 1 s and 365 d (the trigger path checks the same bounds).
 *
 * @example
 * ```ts
 * isTtlInRange("10m") // true
 * isTtlInRange("400d") // false
 * ```
 */
export function isTtlInRange(ttl: string | number): boolean {
  const ms = durationMs(ttl)
  return ms !== null && ms >= 1000 && ms <= MAX_WAIT_MS
}

/**
 * A run's time limit in whole seconds, overriding the task's own `maxDuration`.
 *
 * @example
 * ```ts
 * MaxDuration.parse(900)
 * ```
 */
export const MaxDuration = z.number().int().positive()

/**
 * Options applied to every run the schedule starts in this environment: `tags`, `maxAttempts`,
 * `maxDuration` (seconds, else the task's), `ttl` (counted from the slot), and flow control:
 * `queue`, `concurrencyKey`, `retry` (over the task's declaration, field by field).
 *
 * @example
 * ```ts
 * ScheduleRunOptions.parse({ tags: ["nightly"], maxAttempts: 2, maxDuration: 600, ttl: "10m" })
 * ```
 */
export const ScheduleRunOptions = z.strictObject({
  tags: Tags.optional(),
  maxAttempts: MaxAttempts.optional(),
  maxDuration: MaxDuration.optional(),
  ttl: Ttl.refine(isTtlInRange, "must be between 1s and 365d").optional(),
  ...FlowOptions.shape,
})
export type ScheduleRunOptions = z.infer<typeof ScheduleRunOptions>

const StoredScheduleRunOptions = z
  .object({
    tags: ScheduleRunOptions.shape.tags.catch(undefined),
    maxAttempts: ScheduleRunOptions.shape.maxAttempts.catch(undefined),
    maxDuration: ScheduleRunOptions.shape.maxDuration.catch(undefined),
    ttl: ScheduleRunOptions.shape.ttl.catch(undefined),
    queue: QueueOptions.optional().catch(undefined),
    concurrencyKey: ConcurrencyKey.optional().catch(undefined),
    retry: RetryOptions.optional().catch(undefined),
  })
  .catch({})

/**
 * Reads `schedule_instances.run_options` as stored: the same schema, but an unreadable field is
 * dropped instead of failing, because a fire must not fail forever over an option written by an
 * older API.
 *
 * @example
 * ```ts
 * readScheduleRunOptions({ maxAttempts: 2, ttl: "soon" }) // { maxAttempts: 2 }
 * ```
 */
export function readScheduleRunOptions(stored: unknown): ScheduleRunOptions {
  const read = StoredScheduleRunOptions.parse(stored ?? {})
  return Object.fromEntries(
    Object.entries(read).filter(([, value]) => value !== undefined),
  ) as ScheduleRunOptions
}
