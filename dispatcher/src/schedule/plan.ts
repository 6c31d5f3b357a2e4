import { nextOccurrences, occurrencesBetween } from "./calc.ts"

/**
 * What one fire of a leased slot does to the schedule, decided from the clock alone (no I/O):
 * the cursor moves to the first occurrence after max(slot, now) — never backfilling — and every
 * occurrence the move jumps over is reported as skipped.
 */
export interface FirePlan {
  /** The new cursor: the first slot after max(slot, now). */
  next: Date
  /** The payload's `upcoming`: future slots from dispatch time; `next` is the first. */
  upcoming: Date[]
  /** Slots strictly between `slot` and `next` (they passed while nobody fired), or null. */
  skipped: SkippedSlots | null
}

export interface SkippedSlots {
  first: Date
  last: Date
  /** Exact when `complete`; otherwise the count found before the enumeration limit. */
  count: number
  /** False when more than the enumeration limit passed: then `last` is the dispatch time. */
  complete: boolean
}

export interface PlanInput {
  cron: string
  timezone: string
  slot: Date
  now: Date
  upcomingCount: number
  /** Bounds the work of enumerating skipped slots after a very long downtime. */
  skipLimit?: number
}

export function planFire(input: PlanInput): FirePlan {
  const from = new Date(Math.max(input.slot.getTime(), input.now.getTime()))
  const upcoming = nextOccurrences(
    input.cron,
    input.timezone,
    from,
    Math.max(1, input.upcomingCount),
  )
  const next = upcoming[0]
  if (!next) throw new Error(`cron '${input.cron}' has no next occurrence`)
  let skipped: SkippedSlots | null = null
  if (input.now > input.slot) {
    const limit = input.skipLimit ?? 10_000
    const passed = occurrencesBetween(input.cron, input.timezone, input.slot, from, limit + 1)
    if (passed.length > 0) {
      const complete = passed.length <= limit
      skipped = {
        first: passed[0] as Date,
        last: complete ? (passed[passed.length - 1] as Date) : from,
        count: Math.min(passed.length, limit),
        complete,
      }
    }
  }
  return { next, upcoming: upcoming.slice(0, input.upcomingCount), skipped }
}
