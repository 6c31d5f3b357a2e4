import { CronSyntaxError, compileCron } from "./cron-fields.ts"
import { occurrencesAfter } from "./occurrences.ts"

/**
 * Pure schedule math: no I/O, `now`/`after` always passed in. The API imports it to validate cron
 * and timezones and to compute the first fire; the dispatcher to advance cursors. Cron is the
 * classic 5-field form evaluated in local wall time of an IANA zone; DST rules are in
 * occurrences.ts and docs/ARCHITECTURE.md.
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

const zoneCache = new Map<string, string | null>()

/** The canonical spelling Intl gives a zone name, or null when it is not one. */
function resolveTimezone(timezone: string): string | null {
  const cached = zoneCache.get(timezone)
  if (cached !== undefined) return cached
  let resolved: string | null = null
  // Intl also takes UTC offsets ("+05:00"); an IANA name starts with a letter.
  if (/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timezone)) {
    try {
      resolved = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone
    } catch {
      resolved = null
    }
  }
  if (zoneCache.size >= 1_000) zoneCache.clear()
  zoneCache.set(timezone, resolved)
  return resolved
}

/**
 * True for an IANA time zone name this runtime knows, spelled as IANA spells it (`UTC`,
 * `Europe/Paris`, `Australia/Lord_Howe`, and backward links such as `US/Eastern`).
 */
export function isValidTimezone(timezone: string): boolean {
  return resolveTimezone(timezone) === timezone
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
    const resolved = resolveTimezone(timezone)
    throw new ScheduleError(
      "timezone",
      resolved
        ? `time zone '${timezone}' must be spelled '${resolved}'`
        : `unknown IANA time zone '${timezone}'`,
    )
  }
  try {
    compileCron(cron)
  } catch (error) {
    if (error instanceof CronSyntaxError) {
      throw new ScheduleError("cron", error.message)
    }
    throw error
  }
}

function compile(cron: string, timezone: string) {
  validateSchedule(cron, timezone)
  return compileCron(cron)
}

/**
 * The first `count` occurrences strictly after `after`. Throws ScheduleError for a bad cron or
 * zone. Fewer than `count` only if the cron has no further slot within 29 years.
 */
export function nextOccurrences(
  cron: string,
  timezone: string,
  after: Date,
  count: number,
): Date[] {
  const compiled = compile(cron, timezone)
  return occurrencesAfter(compiled, timezone, after.getTime(), count).map((ms) => new Date(ms))
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date {
  const [next] = nextOccurrences(cron, timezone, after, 1)
  if (!next) throw new ScheduleError("cron", `cron '${cron}' has no occurrence after ${after}`)
  return next
}

/** Every occurrence in the half-open range (`after`, `until`], at most `limit` of them. */
export function occurrencesBetween(
  cron: string,
  timezone: string,
  after: Date,
  until: Date,
  limit: number,
): Date[] {
  const compiled = compile(cron, timezone)
  return occurrencesAfter(compiled, timezone, after.getTime(), limit, until.getTime()).map(
    (ms) => new Date(ms),
  )
}
