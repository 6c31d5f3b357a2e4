import {
  durationMs,
  type FieldIssue,
  isTtlInRange,
  MAX_WAIT_MS,
  parseDuration,
  type TriggerOptions,
} from "@helmr/sdk/contract"

export interface RunTiming {
  /** When the run may start. */
  availableAt: Date
  /** When it expires if it has not started; null: never. */
  expiresAt: Date | null
}

/**
 * When a triggered run may start and when it expires, from `delay` (a duration from now, or an
 * absolute time; a past time means now) and `ttl` (counted from when the run may start).
 * Returns the failing fields instead when a value is out of range. Pure: `now` is passed in.
 */
export function computeRunTiming(
  options: Pick<TriggerOptions, "delay" | "ttl">,
  now: Date,
): RunTiming | FieldIssue[] {
  const issues: FieldIssue[] = []
  let availableAt = now
  if (options.delay !== undefined) {
    const ms = parseDuration(options.delay)
    const at = ms === null ? new Date(options.delay) : new Date(now.getTime() + ms)
    if (!Number.isFinite(at.getTime()) || at.getTime() - now.getTime() > MAX_WAIT_MS) {
      issues.push({ path: "options.delay", message: "must be at most 365 days away" })
    } else if (at > now) {
      availableAt = at
    }
  }
  let expiresAt: Date | null = null
  if (options.ttl !== undefined) {
    const ms = durationMs(options.ttl)
    if (ms === null || !isTtlInRange(options.ttl)) {
      issues.push({ path: "options.ttl", message: "must be between 1s and 365d" })
    } else {
      expiresAt = new Date(availableAt.getTime() + ms)
    }
  }
  return issues.length > 0 ? issues : { availableAt, expiresAt }
}
