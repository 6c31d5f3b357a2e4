import type { ScheduleMath } from "@helmr/migrations/queries/schedules"
import { nextOccurrence, nextOccurrences, ScheduleError, validateSchedule } from "./calc.ts"
import { planFire } from "./plan.ts"

/**
 * The schedule math the shared schedule operations (migrations/src/queries/schedules) take: the
 * API and the runner pass this, so both check and compute fires exactly as the dispatcher does.
 */
export const scheduleMath: ScheduleMath = {
  nextOccurrence,
  nextOccurrences,
  planUpcoming: (cron, timezone, now, count) =>
    planFire({ cron, timezone, slot: now, now, upcomingCount: count }).upcoming,
  check(cron, timezone) {
    try {
      validateSchedule(cron, timezone)
      return null
    } catch (error) {
      if (error instanceof ScheduleError) return { field: error.field, message: error.message }
      throw error
    }
  },
}
