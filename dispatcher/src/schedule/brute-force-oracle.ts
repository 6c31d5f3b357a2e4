/**
 * A test oracle for the schedule math, written independently of cron-parser and of zone.ts: it
 * parses the cron itself and walks real time one minute at a time, reading the local wall clock
 * from Intl.formatToParts. Slow by design (minutes × Intl calls); only tests use it.
 *
 * Rules it encodes (the specification, docs/ARCHITECTURE.md): a minute fires when its local wall
 * time matches; in a repeated wall time (second pass of a fold) only wildcard-hour crons fire;
 * wall times skipped by a gap fire, for fixed-hour crons only, at the instant the skipped time
 * maps to with the offset in force before the gap.
 */

const MINUTE = 60_000
const NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
}

function parseField(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>()
  const value = (s: string) => NAMES[s.toLowerCase()] ?? Number.parseInt(s, 10)
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/")
    const step = stepText ? Number.parseInt(stepText, 10) : 1
    let lo: number
    let hi: number
    if (range === "*") {
      lo = min
      hi = max
    } else if (range?.includes("-")) {
      const [a, b] = range.split("-")
      lo = value(a as string)
      hi = value(b as string)
    } else {
      lo = value(range as string)
      hi = stepText ? max : lo
    }
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return out
}

interface OracleCron {
  minute: Set<number>
  hour: Set<number>
  dom: Set<number>
  month: Set<number>
  dow: Set<number>
  domStar: boolean
  dowStar: boolean
  hourStar: boolean
}

export function parseOracleCron(cron: string): OracleCron {
  const [m, h, dom, mon, dow] = cron.trim().split(/\s+/) as [string, string, string, string, string]
  const dowSet = parseField(dow, 0, 7)
  if (dowSet.has(7)) dowSet.add(0)
  return {
    minute: parseField(m, 0, 59),
    hour: parseField(h, 0, 23),
    dom: parseField(dom, 1, 31),
    month: parseField(mon, 1, 12),
    dow: dowSet,
    domStar: dom === "*",
    dowStar: dow === "*",
    hourStar: h.startsWith("*"),
  }
}

interface Wall {
  ms: number
  year: number
  month: number
  day: number
  hour: number
  minute: number
  weekday: number
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }
const formats = new Map<string, Intl.DateTimeFormat>()

export function oracleWall(timezone: string, instant: number): Wall {
  let f = formats.get(timezone)
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    })
    formats.set(timezone, f)
  }
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(instant)) parts[p.type] = p.value
  const year = Number(parts.year)
  const month = Number(parts.month)
  const day = Number(parts.day)
  const hour = Number(parts.hour)
  const minute = Number(parts.minute)
  return {
    ms: Date.UTC(year, month - 1, day, hour, minute),
    year,
    month,
    day,
    hour,
    minute,
    weekday: WEEKDAYS[parts.weekday as string] as number,
  }
}

function matches(c: OracleCron, w: Omit<Wall, "ms">): boolean {
  if (!c.minute.has(w.minute) || !c.hour.has(w.hour) || !c.month.has(w.month)) return false
  const dom = c.dom.has(w.day)
  const dow = c.dow.has(w.weekday)
  return !c.domStar && !c.dowStar ? dom || dow : dom && dow
}

function wallFields(ms: number): Omit<Wall, "ms"> {
  const d = new Date(ms)
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  }
}

/** Every slot in (from, to], found by visiting each minute. `from`/`to` whole minutes. */
export function oracleSlots(cron: string, timezone: string, from: number, to: number): number[] {
  const c = parseOracleCron(cron)
  const out = new Set<number>()
  // Warm up a few hours early so a fold that began before `from` is recognised as one.
  const start = from - 6 * 60 * MINUTE
  let previous = oracleWall(timezone, start - MINUTE)
  let maxSeen = previous.ms
  for (let t = start; t <= to; t += MINUTE) {
    const wall = oracleWall(timezone, t)
    if (wall.ms - previous.ms > MINUTE && !c.hourStar) {
      for (let s = previous.ms + MINUTE; s < wall.ms; s += MINUTE) {
        if (matches(c, wallFields(s))) out.add(t - MINUTE + (s - previous.ms))
      }
    }
    const secondPass = wall.ms <= maxSeen
    if (matches(c, wall) && (!secondPass || c.hourStar)) out.add(t)
    maxSeen = Math.max(maxSeen, wall.ms)
    previous = wall
  }
  return [...out].filter((t) => t > from && t <= to).sort((a, b) => a - b)
}
