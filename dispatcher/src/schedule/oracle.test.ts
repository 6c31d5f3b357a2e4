import { describe, expect, test } from "bun:test"
import { oracleSlots, oracleWall } from "./brute-force-oracle.ts"
import { nextOccurrences, validateSchedule } from "./calc.ts"

/**
 * Property tests: for random crons in zones with every kind of DST (1 h, 30 min, 2 h, at
 * midnight, southern hemisphere, negative DST, twice a year around Ramadan, none), the occurrences
 * equal those of a brute-force minute-by-minute oracle. Windows are placed around each zone's
 * real transitions, where the rules matter. Seeded: HELMR_PROPERTY_SEED reproduces a run.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const ZONES = [
  "America/New_York",
  "Europe/London",
  "Europe/Berlin",
  "Europe/Dublin",
  "Australia/Lord_Howe",
  "Australia/Sydney",
  "America/Santiago",
  "Pacific/Auckland",
  "Pacific/Chatham",
  "America/Havana",
  "America/St_Johns",
  "Africa/Casablanca",
  "Antarctica/Troll",
  "Asia/Kolkata",
  "UTC",
]

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const seed = Number(process.env.HELMR_PROPERTY_SEED ?? Date.now() % 1_000_000)
const random = rng(seed)
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T

/** Instants where the zone's offset changes during `year`, to the minute. */
function transitions(timezone: string, year: number): number[] {
  const offset = (t: number) => oracleWall(timezone, t).ms - Math.floor(t / MINUTE) * MINUTE
  const out: number[] = []
  let t = Date.UTC(year, 0, 1)
  let current = offset(t)
  for (; t < Date.UTC(year + 1, 0, 1); t += HOUR) {
    const next = offset(t + HOUR)
    if (next === current) continue
    let lo = t
    let hi = t + HOUR
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE
      if (offset(mid) === current) lo = mid
      else hi = mid
    }
    out.push(hi)
    current = next
  }
  return out
}

/** A random cron biased towards the hours around `hour` (local), where DST bites. */
function randomCron(hour: number): string {
  const near = (h: number) => (h + 24) % 24
  const minute = pick([
    "*",
    "*/15",
    "*/20",
    "*/7",
    String(int(0, 59)),
    `${int(0, 29)},${int(30, 59)}`,
    `${int(0, 20)}-${int(30, 59)}/${int(5, 15)}`,
    `${int(0, 30)}/${int(10, 30)}`,
    "0",
    "30",
    "45",
  ])
  const hourField = pick([
    "*",
    "*/2",
    "*/3",
    String(near(hour)),
    String(near(hour - 1)),
    `${near(hour - 1)},${near(hour)}`,
    `${Math.min(near(hour - 1), near(hour + 1))}-${Math.max(near(hour - 1), near(hour + 1))}`,
    `${near(hour)},${near(hour + 1)},${near(hour + 2)}`,
  ])
  const dom = pick(["*", "*", "*", "*", "1-15", "*/2", String(int(1, 28)), "10-31"])
  const month = pick(["*", "*", "*", "*", "jan-jun", "3,4,9,10,11", "*/2"])
  const dow = pick(["*", "*", "*", "*", "0", "7", "1-5", "sat,sun", "mon-fri", "5"])
  return `${minute} ${hourField} ${dom} ${month} ${dow}`
}

interface Case {
  cron: string
  timezone: string
  from: number
  to: number
}

function buildCases(): Case[] {
  const cases: Case[] = []
  for (const timezone of ZONES) {
    const years = [2025, int(2026, 2037)]
    const instants = years.flatMap((year) => transitions(timezone, year))
    // Zones without DST still get random windows.
    const anchors = instants.length > 0 ? instants : [Date.UTC(int(2025, 2035), int(0, 11), 15)]
    for (const anchor of anchors) {
      const localHour = oracleWall(timezone, anchor - MINUTE).hour
      for (let i = 0; i < 3; i++) {
        let cron = randomCron(localHour)
        while (!isValid(cron)) cron = randomCron(localHour)
        const from = anchor - int(1, 30) * HOUR - int(0, 59) * MINUTE
        cases.push({ cron, timezone, from, to: from + 40 * HOUR })
      }
    }
  }
  return cases
}

function isValid(cron: string): boolean {
  try {
    validateSchedule(cron, "UTC")
    return true
  } catch {
    return false
  }
}

describe(`schedule math equals the brute-force oracle (seed ${seed})`, () => {
  const cases = buildCases()

  test(`${cases.length} random crons around real DST transitions`, () => {
    let compared = 0
    for (const c of cases) {
      const expected = oracleSlots(c.cron, c.timezone, c.from, c.to)
      const got = nextOccurrences(c.cron, c.timezone, new Date(c.from), expected.length + 1).map(
        (d) => d.getTime(),
      )
      const label = `${c.cron} | ${c.timezone} | from ${new Date(c.from).toISOString()} | seed ${seed}`
      expect({ label, slots: got.slice(0, expected.length).map(iso) }).toEqual({
        label,
        slots: expected.map(iso),
      })
      // Nothing the oracle missed inside the window.
      if (got.length > expected.length) expect(got[expected.length] as number).toBeGreaterThan(c.to)
      compared += expected.length
    }
    expect(compared).toBeGreaterThan(cases.length)
  }, 120_000)

  test("an every-minute cron for six days across a transition", () => {
    for (const timezone of ["Australia/Lord_Howe", "America/Santiago", "Europe/London"]) {
      const [anchor] = transitions(timezone, 2026)
      const from = (anchor as number) - 3 * 24 * HOUR
      const expected = oracleSlots("* * * * *", timezone, from, from + 6 * 24 * HOUR)
      const got = nextOccurrences("* * * * *", timezone, new Date(from + 1), expected.length)
      expect(got.map((d) => d.getTime())).toEqual(expected)
    }
  }, 120_000)
})

function iso(t: number): string {
  return new Date(t).toISOString()
}
