import { nextOccurrences, ScheduleError, validateSchedule } from "@helmr/dispatcher/schedule"
import { normalizeCron } from "@helmr/sdk/contract"
import cronstrue from "cronstrue"
import { formatInZone, formatUtc } from "./format.ts"

export interface SchedulePreview {
  description: string
  timezone: string
  upcoming: { at: string; local: string; utc: string }[]
}

/**
 * A cron in words and its next fires, pure (`now` passed in). Validity and the fires come from
 * the dispatcher's schedule math, the same code that fires schedules and checks API writes;
 * cronstrue only words the expression (it is never the judge of what is valid).
 */
export function previewSchedule(
  cron: string,
  timezone: string,
  now: Date,
  count = 5,
): SchedulePreview | { error: string; field: "cron" | "timezone" } {
  const normalized = normalizeCron(cron)
  try {
    validateSchedule(normalized, timezone)
    const fires = nextOccurrences(normalized, timezone, now, count)
    return {
      description: describeCron(normalized),
      timezone,
      upcoming: fires.map((d) => ({
        at: d.toISOString(),
        local: formatInZone(d, timezone),
        utc: formatUtc(d),
      })),
    }
  } catch (error) {
    if (error instanceof ScheduleError) return { error: error.message, field: error.field }
    throw error
  }
}

/** "At 02:00, Monday through Friday"; the cron itself when cronstrue cannot word it. */
export function describeCron(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true })
  } catch {
    return cron
  }
}
