/**
 * Time zone arithmetic on top of Intl: the only source of zone rules we trust (it ships with the
 * runtime's ICU/tzdata). "Wall" times are local times written as UTC epoch milliseconds
 * (`Date.UTC(y, m - 1, d, h, min)`), so local calendar arithmetic is plain integer arithmetic.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    })
    formatters.set(timezone, formatter)
  }
  return formatter
}

// `format` is ~40% cheaper than `formatToParts`; the en-US h23 shape is fixed: "3/9/2025, 03:00:00".
const SHAPE = /^(\d+)\/(\d+)\/(-?\d+), (\d+):(\d+):(\d+)$/

/** The local wall time of `instant` in `timezone`, as wall epoch milliseconds (seconds kept). */
export function wallAt(timezone: string, instant: number): number {
  if (timezone === "UTC") return instant
  const floored = Math.floor(instant / 1000) * 1000
  const match = SHAPE.exec(formatterFor(timezone).format(floored))
  if (!match) throw new Error(`unexpected date format for ${timezone}`)
  const [, month, day, year, hour, minute, second] = match.map(Number) as number[]
  const wall = Date.UTC(
    year as number,
    (month as number) - 1,
    day as number,
    hour as number,
    minute as number,
    second as number,
  )
  return wall + (instant - floored)
}

/** The zone's UTC offset at `instant` (local − UTC), in milliseconds. */
export function offsetAt(timezone: string, instant: number): number {
  return wallAt(timezone, instant) - instant
}

/**
 * Every instant whose local wall time is exactly `wall`: none in a spring-forward gap, two in a
 * fall-back fold (earliest first), one otherwise. `before`/`after` are the zone's offsets on
 * either side of the day, which bound every offset in force that day.
 */
export function instantsOfWall(
  timezone: string,
  wall: number,
  before: number,
  after: number,
): number[] {
  const out: number[] = []
  for (const offset of before === after ? [before] : [before, after]) {
    const candidate = wall - offset
    if (offsetAt(timezone, candidate) === offset && !out.includes(candidate)) out.push(candidate)
  }
  return out.sort((a, b) => a - b)
}

/** Offsets in force just before and just after the local day starting at `dayWall`. */
export function offsetsAroundDay(timezone: string, dayWall: number): [number, number] {
  if (timezone === "UTC") return [0, 0]
  // Offsets lie within [-12h, +14h]: 15 h before the local midnight is always the previous local
  // day, 37 h after it always the next one, so these two bracket every transition of the day.
  return [offsetAt(timezone, dayWall - 15 * HOUR), offsetAt(timezone, dayWall + 37 * HOUR)]
}
