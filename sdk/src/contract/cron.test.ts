import { describe, expect, test } from "bun:test"
import { normalizeCron, parseCron } from "./cron.ts"

function compiled(pattern: string) {
  const parsed = parseCron(pattern)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.cron
}

function message(pattern: unknown): string {
  const parsed = parseCron(pattern)
  if (parsed.ok) throw new Error(`accepted ${String(pattern)}`)
  return parsed.message
}

describe("parseCron", () => {
  test("compiles numbers, ranges, steps, lists and names to sets", () => {
    const cron = compiled("*/15 9-17/4 1,15 JAN-mar/2 mon-FRI")
    expect(cron.minutes).toEqual([0, 15, 30, 45])
    expect(cron.hours).toEqual([9, 13, 17])
    expect(cron.daysOfMonth.flatMap((on, d) => (on ? [d] : []))).toEqual([1, 15])
    expect(cron.months.flatMap((on, m) => (on ? [m] : []))).toEqual([1, 3])
    expect(cron.daysOfWeek).toEqual([false, true, true, true, true, true, false])
    expect(cron).toMatchObject({ domRestricted: true, dowRestricted: true, wildcardHour: false })
  })

  test("a/n runs to the field's end; weekday 7 is Sunday", () => {
    expect(compiled("5/20 * * * *").minutes).toEqual([5, 25, 45])
    expect(compiled("0 0 * * 7").daysOfWeek[0]).toBe(true)
    expect(compiled("0 */2 * * *").wildcardHour).toBe(true)
  })

  test("normalises whitespace", () => {
    expect(normalizeCron(" 0  2\t* * *\n")).toBe("0 2 * * *")
    expect(parseCron(" 0  2 * * * ")).toMatchObject({ ok: true, normalized: "0 2 * * *" })
  })

  test.each([
    [5, "must be a cron expression string"],
    ["", '"" must have 5 fields (minute hour day-of-month month day-of-week), got 0'],
    ["0 * * * * *", "got 6; a seconds field is not supported"],
    ["@daily", "macros such as @daily are not supported"],
    ["61 2 * * *", '"61 2 * * *": minute field "61" has 61, outside 0-59'],
    ["0 0 L * *", 'day of month field "L" uses a Quartz/Jenkins form'],
    ["0 0 * * 1#2", "L, W, #, ? and H are not supported"],
    ["H * * * *", 'minute field "H" uses a Quartz/Jenkins form'],
    ["*/0 * * * *", "has a step below 1"],
    ["10-5 * * * *", "has the range 10-5, which runs backwards"],
    ["0 0 * * JAN", 'has "JAN", not a day of week'],
    ["1,,2 * * * *", "has an empty list item"],
    ["0 0 30 2 *", '"0 0 30 2 *" never fires: no chosen month has that day'],
    [`${"1,".repeat(300)}1 * * * *`, "is longer than 512 characters"],
  ])("refuses %j", (pattern, expected) => {
    expect(message(pattern)).toContain(expected)
  })

  test("a restricted weekday rescues a day of month no month has (classic OR)", () => {
    expect(parseCron("0 0 30 2 1").ok).toBe(true)
  })
})
