import { describe, expect, test } from "bun:test"
import { describeCron, previewSchedule } from "./schedule-preview.ts"

const NOW = new Date("2026-03-28T12:00:00Z")

describe("previewSchedule", () => {
  test("words the cron and lists the next fires in the zone and in UTC", () => {
    const preview = previewSchedule("0 2 * * *", "Europe/Paris", NOW)
    if ("error" in preview) throw new Error(preview.error)
    expect(preview.description).toBe("At 02:00")
    // 2026-03-29 is the spring-forward day in Paris: 02:00 does not exist and is shifted to 03:00.
    expect(preview.upcoming.map((f) => f.local)).toEqual([
      "2026-03-29 03:00:00 GMT+2",
      "2026-03-30 02:00:00 GMT+2",
      "2026-03-31 02:00:00 GMT+2",
      "2026-04-01 02:00:00 GMT+2",
      "2026-04-02 02:00:00 GMT+2",
    ])
    expect(preview.upcoming[0]).toMatchObject({
      at: "2026-03-29T01:00:00.000Z",
      utc: "2026-03-29 01:00:00 UTC",
    })
  })

  test.each([
    ["0 2 * *", "UTC", "cron"],
    ["61 * * * *", "UTC", "cron"],
    ["0 2 * * *", "Mars/Olympus", "timezone"],
    ["0 2 * * *", "+05:00", "timezone"],
  ])("%p in %p is refused naming the %s", (cron, zone, field) => {
    const preview = previewSchedule(cron, zone, NOW)
    expect(preview).toMatchObject({ field })
  })

  test("normalises whitespace like the API does", () => {
    const preview = previewSchedule("  */15   9-17 * * 1-5 ", "UTC", NOW, 2)
    expect(preview).toMatchObject({
      description: "Every 15 minutes, between 09:00 and 17:59, Monday through Friday",
      upcoming: [{ at: "2026-03-30T09:00:00.000Z" }, { at: "2026-03-30T09:15:00.000Z" }],
    })
  })
})

test("describeCron falls back to the expression", () => {
  expect(describeCron("0 0 1 JAN *")).toBe("At 00:00, on day 1 of the month, only in January")
  expect(describeCron("not a cron")).toBe("not a cron")
})
