import { describe, expect, test } from "bun:test"
import {
  isValidTimezone,
  listTimezones,
  nextOccurrence,
  nextOccurrences,
  occurrencesBetween,
  ScheduleError,
  validateSchedule,
} from "./calc.ts"

/** Occurrences as "local wall time offset" strings, which read like the DST rules they pin. */
function local(cron: string, timezone: string, after: string, count: number): string[] {
  const format = new Intl.DateTimeFormat("sv-SE", {
    timeZone: timezone,
    dateStyle: "short",
    timeStyle: "short",
  })
  return nextOccurrences(cron, timezone, new Date(after), count).map(
    (d) => `${format.format(d)} ${d.toISOString().slice(11, 16)}Z`,
  )
}

describe("validateSchedule", () => {
  test.each([
    ["* * * * *", "UTC"],
    ["0 2 * * *", "America/New_York"],
    ["*/15 9-17 * * mon-fri", "Europe/Paris"],
    ["0 0 1 jan,jul *", "Australia/Lord_Howe"],
    ["5/10 * * * 7", "US/Eastern"],
    ["0 0 29 2 *", "UTC"],
    ["0 0 31 2 1", "UTC"],
  ])("accepts %p in %p", (cron, timezone) => {
    expect(() => validateSchedule(cron, timezone)).not.toThrow()
  })

  test.each([
    ["* * * *", "5 fields"],
    ["0 * * * * *", "5 fields"],
    ["", "5 fields"],
    ["@daily", "5 fields"],
    ["60 * * * *", 'minute field "60" has 60, outside 0-59'],
    ["* 24 * * *", "hour field"],
    ["* * 0 * *", "day of month field"],
    ["* * * 13 *", "month field"],
    ["* * * * 8", "day of week field"],
    ["0 0 L * *", "L, W, #, ? and H are not supported"],
    ["0 0 * * 5L", "not supported"],
    ["0 0 * * 1#2", "not supported"],
    ["0 0 15W * *", "not supported"],
    ["0 0 ? * *", "not supported"],
    ["H * * * *", "not supported"],
    ["*/0 * * * *", "has a step below 1"],
    ["10-5 * * * *", "runs backwards"],
    ["0 0 30 2 *", "never fires"],
    ["0 0 31 4,6,9,11 *", "never fires"],
    ["0 0 * foo *", 'has "foo", not a month'],
  ])("refuses cron %p (%s)", (cron, message) => {
    try {
      validateSchedule(cron, "UTC")
      throw new Error("accepted")
    } catch (error) {
      expect(error).toBeInstanceOf(ScheduleError)
      expect((error as ScheduleError).field).toBe("cron")
      expect((error as ScheduleError).message).toContain(message)
    }
  })

  test.each([
    ["Mars/Olympus", "unknown IANA time zone"],
    ["+05:00", "unknown IANA time zone"],
    ["", "unknown IANA time zone"],
    ["utc", "must be spelled 'UTC'"],
    ["america/new_york", "must be spelled 'America/New_York'"],
  ])("refuses time zone %p", (timezone, message) => {
    try {
      validateSchedule("* * * * *", timezone)
      throw new Error("accepted")
    } catch (error) {
      expect((error as ScheduleError).field).toBe("timezone")
      expect((error as ScheduleError).message).toContain(message)
    }
  })

  test("timezones: the listing holds UTC and real zones, each of them valid", () => {
    const zones = listTimezones()
    expect(zones).toContain("UTC")
    expect(zones).toContain("Australia/Lord_Howe")
    expect(zones.length).toBeGreaterThan(300)
    expect(zones.every(isValidTimezone)).toBe(true)
    expect([...zones].sort()).toEqual(zones)
  })
})

describe("nextOccurrences", () => {
  test("strictly after: a slot equal to `after` is not returned", () => {
    const at = new Date("2025-06-01T10:00:00Z")
    expect(nextOccurrence("0 * * * *", "UTC", at)).toEqual(new Date("2025-06-01T11:00:00Z"))
    expect(nextOccurrence("* * * * *", "UTC", new Date("2025-06-01T10:00:00.001Z"))).toEqual(
      new Date("2025-06-01T10:01:00Z"),
    )
  })

  test("day-of-month and day-of-week both restricted: either matches (classic cron)", () => {
    // 2025-06-13 is a Friday; the 1st of July a Tuesday.
    expect(local("0 12 1 * fri", "UTC", "2025-06-10T00:00:00Z", 3)).toEqual([
      "2025-06-13 12:00 12:00Z",
      "2025-06-20 12:00 12:00Z",
      "2025-06-27 12:00 12:00Z",
    ])
    expect(local("0 12 1 * fri", "UTC", "2025-06-28T00:00:00Z", 2)).toEqual([
      "2025-07-01 12:00 12:00Z",
      "2025-07-04 12:00 12:00Z",
    ])
    // With one field `*`, only the other decides; weekday 7 is Sunday.
    expect(local("0 0 */10 * *", "UTC", "2025-06-02T00:00:00Z", 3)).toEqual([
      "2025-06-11 00:00 00:00Z",
      "2025-06-21 00:00 00:00Z",
      "2025-07-01 00:00 00:00Z",
    ])
    expect(local("0 0 * * 7", "UTC", "2025-06-02T00:00:00Z", 1)).toEqual([
      "2025-06-08 00:00 00:00Z",
    ])
  })

  test("Feb 29 waits for a leap year, across 2100", () => {
    expect(nextOccurrence("0 0 29 2 *", "UTC", new Date("2096-03-01T00:00:00Z"))).toEqual(
      new Date("2104-02-29T00:00:00Z"),
    )
  })

  test("occurrencesBetween: the half-open range, bounded", () => {
    const got = occurrencesBetween(
      "*/20 * * * *",
      "UTC",
      new Date("2025-01-01T00:00:00Z"),
      new Date("2025-01-01T01:00:00Z"),
      10,
    )
    expect(got.map((d) => d.toISOString().slice(11, 16))).toEqual(["00:20", "00:40", "01:00"])
    expect(
      occurrencesBetween(
        "* * * * *",
        "UTC",
        new Date("2025-01-01T00:00:00Z"),
        new Date("2025-01-02T00:00:00Z"),
        5,
      ),
    ).toHaveLength(5)
  })
})

describe("DST: spring-forward gaps", () => {
  test("New York 02:00→03:00: a fixed-hour job fires once, shifted by the gap", () => {
    expect(local("30 2 * * *", "America/New_York", "2025-03-08T12:00:00Z", 2)).toEqual([
      "2025-03-09 03:30 07:30Z",
      "2025-03-10 02:30 06:30Z",
    ])
    // Two slots in the gap stay two slots; one landing on a real slot merges with it.
    expect(local("0,30 2 * * *", "America/New_York", "2025-03-08T12:00:00Z", 2)).toEqual([
      "2025-03-09 03:00 07:00Z",
      "2025-03-09 03:30 07:30Z",
    ])
    expect(local("30 2,3 * * *", "America/New_York", "2025-03-08T12:00:00Z", 2)).toEqual([
      "2025-03-09 03:30 07:30Z",
      "2025-03-10 02:30 06:30Z",
    ])
  })

  test("a wildcard-hour job skips the hour that does not exist", () => {
    expect(local("30 * * * *", "America/New_York", "2025-03-09T05:00:00Z", 3)).toEqual([
      "2025-03-09 00:30 05:30Z",
      "2025-03-09 01:30 06:30Z",
      "2025-03-09 03:30 07:30Z",
    ])
    expect(local("0 */2 * * *", "Europe/Berlin", "2025-03-29T22:30:00Z", 2)).toEqual([
      "2025-03-30 00:00 23:00Z",
      "2025-03-30 04:00 02:00Z",
    ])
  })

  test("Lord Howe's 30-minute gap 02:00→02:30 (cron-parser 5 drops this slot)", () => {
    expect(local("15 2 * * *", "Australia/Lord_Howe", "2025-10-03T00:00:00Z", 3)).toEqual([
      "2025-10-04 02:15 15:45Z",
      "2025-10-05 02:45 15:45Z",
      "2025-10-06 02:15 15:15Z",
    ])
  })

  test("Santiago's gap at midnight (00:00→01:00), southern hemisphere", () => {
    expect(local("0 0 * * *", "America/Santiago", "2025-09-05T12:00:00Z", 3)).toEqual([
      "2025-09-06 00:00 04:00Z",
      "2025-09-07 01:00 04:00Z",
      "2025-09-08 00:00 03:00Z",
    ])
  })

  test("Sydney and Chatham (+12:45/+13:45) spring forward in October", () => {
    expect(local("30 2 * * *", "Australia/Sydney", "2025-10-04T00:00:00Z", 2)).toEqual([
      "2025-10-05 03:30 16:30Z",
      "2025-10-06 02:30 15:30Z",
    ])
    expect(local("0 3 * * *", "Pacific/Chatham", "2025-09-27T00:00:00Z", 2)).toEqual([
      "2025-09-28 04:00 14:15Z",
      "2025-09-29 03:00 13:15Z",
    ])
  })
})

describe("DST: fall-back folds", () => {
  test("New York 02:00→01:00: a fixed-hour job fires once, in the first pass", () => {
    expect(local("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z", 2)).toEqual([
      "2025-11-02 01:30 05:30Z",
      "2025-11-03 01:30 06:30Z",
    ])
    expect(local("*/20 1 * * *", "America/New_York", "2025-11-02T04:00:00Z", 4)).toEqual([
      "2025-11-02 01:00 05:00Z",
      "2025-11-02 01:20 05:20Z",
      "2025-11-02 01:40 05:40Z",
      "2025-11-03 01:00 06:00Z",
    ])
  })

  test("a wildcard-hour job fires in both passes", () => {
    expect(local("30 * * * *", "America/New_York", "2025-11-02T05:00:00Z", 3)).toEqual([
      "2025-11-02 01:30 05:30Z",
      "2025-11-02 01:30 06:30Z",
      "2025-11-02 02:30 07:30Z",
    ])
    expect(local("0 */2 * * *", "Europe/Berlin", "2025-10-25T23:30:00Z", 3)).toEqual([
      "2025-10-26 02:00 00:00Z",
      "2025-10-26 02:00 01:00Z",
      "2025-10-26 04:00 03:00Z",
    ])
  })

  test("Lord Howe's 30-minute fold 02:00→01:30 (cron-parser 5 misses the second pass)", () => {
    expect(local("*/15 * * * *", "Australia/Lord_Howe", "2025-04-05T14:10:00Z", 6)).toEqual([
      "2025-04-06 01:15 14:15Z",
      "2025-04-06 01:30 14:30Z",
      "2025-04-06 01:45 14:45Z",
      "2025-04-06 01:30 15:00Z",
      "2025-04-06 01:45 15:15Z",
      "2025-04-06 02:00 15:30Z",
    ])
    expect(local("45 1 * * *", "Australia/Lord_Howe", "2025-04-05T00:00:00Z", 2)).toEqual([
      "2025-04-06 01:45 14:45Z",
      "2025-04-07 01:45 15:15Z",
    ])
  })

  test("Santiago falls back at midnight: 23:xx repeats, a fixed 23:30 fires once", () => {
    expect(local("30 23 * * *", "America/Santiago", "2025-04-05T12:00:00Z", 2)).toEqual([
      "2025-04-05 23:30 02:30Z",
      "2025-04-06 23:30 03:30Z",
    ])
  })
})
