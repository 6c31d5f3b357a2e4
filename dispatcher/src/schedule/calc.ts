import { CronExpressionParser } from "cron-parser"

/**
 * Pure schedule math: no I/O, `now`/`after` always passed in. The API imports it to validate cron
 * and timezones and to compute the first fire; the dispatcher to advance cursors.
 */

export class ScheduleError extends Error {
  override name = "ScheduleError"
  constructor(
    readonly field: "cron" | "timezone",
    message: string,
  ) {
    super(message)
  }
}

const zoneCache = new Map<string, boolean>()

/** True for an IANA time zone name this runtime knows (`UTC` included). */
export function isValidTimezone(timezone: string): boolean {
  const cached = zoneCache.get(timezone)
  if (cached !== undefined) return cached
  let ok = false
  try {
    ok = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone !== ""
  } catch {
    ok = false
  }
  zoneCache.set(timezone, ok)
  return ok
}

/** Every IANA time zone name accepted, sorted. */
export function listTimezones(): string[] {
  const zones = new Set(Intl.supportedValuesOf("timeZone"))
  zones.add("UTC")
  return [...zones].sort()
}

/** Throws ScheduleError naming the field when the cron or timezone is not acceptable. */
export function validateSchedule(cron: string, timezone: string): void {
  if (!isValidTimezone(timezone)) {
    throw new ScheduleError("timezone", `unknown IANA time zone '${timezone}'`)
  }
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5) {
    throw new ScheduleError(
      "cron",
      `cron must have 5 fields (minute hour day month weekday), got ${fields.length}`,
    )
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone, strict: false })
  } catch (error) {
    throw new ScheduleError(
      "cron",
      `invalid cron '${cron}': ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/** The first `count` occurrences strictly after `after`. */
export function nextOccurrences(
  cron: string,
  timezone: string,
  after: Date,
  count: number,
): Date[] {
  const expression = CronExpressionParser.parse(cron, { tz: timezone, currentDate: after })
  const out: Date[] = []
  for (let i = 0; i < count; i++) out.push(expression.next().toDate())
  return out
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date {
  return nextOccurrences(cron, timezone, after, 1)[0] as Date
}
