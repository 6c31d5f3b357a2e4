import { type CompiledCron, matchesDay } from "./cron-fields.ts"
import { DAY, instantsOfWall, offsetsAroundDay, wallAt } from "./zone.ts"

/**
 * The walk from a cron to instants, with classic cron's DST rules (docs/ARCHITECTURE.md,
 * "Schedules and DST"):
 * - a local time that occurs twice (fall-back fold): a fixed-hour job fires once, in the first
 *   pass; a wildcard-hour job (`*`, `*∕n` hours) fires in both passes;
 * - a local time that does not occur (spring-forward gap): a fixed-hour job fires once, shifted
 *   forward by the gap (02:30 in a 02:00→03:00 gap fires at 03:30, as RFC 5545 and Temporal's
 *   "compatible" disambiguation resolve it); a wildcard-hour job skips it;
 * - instants that coincide (a shifted slot landing on a real one) are one slot.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
// Feb 29 on a Monday can take 28 years; a day-of-month-only cron at most 8 (no Feb 29 in 2100).
const SEARCH_DAYS = 366 * 29

/** The occurrences of one local day, ascending, in (`after`, `until`], at most `limit` of them. */
function occurrencesOfDay(
  cron: CompiledCron,
  timezone: string,
  dayWall: number,
  after: number,
  until: number,
  limit: number,
): number[] {
  const [before, afterOffset] = offsetsAroundDay(timezone, dayWall)
  const out: number[] = []
  if (before === afterOffset) {
    // No transition near this day: one offset, instants ascend with wall time, so whole hours
    // before `after` are skipped without visiting their minutes.
    const dayStart = dayWall - before
    if (dayStart + DAY <= after) return out
    for (const hour of cron.hours) {
      const hourStart = dayStart + hour * HOUR
      if (hourStart + HOUR <= after) continue
      for (const minute of cron.minutes) {
        const instant = hourStart + minute * MINUTE
        if (instant <= after) continue
        if (instant > until) return out
        out.push(instant)
        if (out.length >= limit) return out
      }
    }
    return out
  }
  for (const hour of cron.hours) {
    for (const minute of cron.minutes) {
      const wall = dayWall + hour * HOUR + minute * MINUTE
      const instants = instantsOfWall(timezone, wall, before, afterOffset)
      if (instants.length === 0) {
        if (!cron.wildcardHour) out.push(wall - before)
      } else if (cron.wildcardHour) {
        out.push(...instants)
      } else {
        out.push(instants[0] as number)
      }
    }
  }
  // A fold makes wall order differ from instant order; a shift can land on a real slot.
  return [...new Set(out)]
    .filter((instant) => instant > after && instant <= until)
    .sort((a, b) => a - b)
}

/**
 * Up to `count` occurrences strictly after `after` (epoch ms), ascending; with `until`, only
 * those up to it (inclusive).
 */
export function occurrencesAfter(
  cron: CompiledCron,
  timezone: string,
  after: number,
  count: number,
  until: number = Number.POSITIVE_INFINITY,
): number[] {
  if (count <= 0) return []
  const start = wallAt(timezone, after)
  // Start a day early: a fold crossing midnight can put a later instant on an earlier local day.
  let dayWall = Math.floor(start / DAY) * DAY - DAY
  const found: number[] = []
  let extraDays = -1
  for (let i = 0; i < SEARCH_DAYS; i++, dayWall += DAY) {
    // Every instant of a local day is after its midnight minus the largest offset (+14 h).
    if (dayWall - 15 * HOUR > until) break
    const date = new Date(dayWall)
    const year = date.getUTCFullYear()
    const month = date.getUTCMonth() + 1
    if (!cron.months[month]) {
      // Jump to the first day of the next month.
      const next = Date.UTC(year, month, 1)
      i += Math.round((next - dayWall) / DAY) - 1
      dayWall = next - DAY
      continue
    }
    if (matchesDay(cron, year, month, date.getUTCDate())) {
      found.push(...occurrencesOfDay(cron, timezone, dayWall, after, until, count))
    }
    if (found.length >= count) {
      // One more local day settles the order around a midnight fold; then stop.
      extraDays++
      if (extraDays >= 1) break
    }
  }
  return [...new Set(found)].sort((a, b) => a - b).slice(0, count)
}
