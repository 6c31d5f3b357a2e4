import { describe, expect, test } from "bun:test"
import { Delay, readScheduleRunOptions, ScheduleRunOptions, Ttl } from "./index.ts"

// parseDuration's own tests are beside it, in duration.test.ts.
describe("durations", () => {
  test("delay takes durations or ISO times with offsets; ttl durations or seconds", () => {
    expect(Delay.safeParse("5m").success).toBe(true)
    expect(Delay.safeParse("2026-01-01T00:00:00+02:00").success).toBe(true)
    expect(Delay.safeParse("2026-01-01").success).toBe(false)
    expect(Delay.safeParse(60).success).toBe(false)
    expect(Ttl.safeParse(60).success).toBe(true)
    expect(Ttl.safeParse("1h").success).toBe(true)
    expect(Ttl.safeParse(0).success).toBe(false)
  })
})

describe("schedule run options", () => {
  test("the API's schema takes every option the dispatcher applies", () => {
    const all = { tags: ["nightly"], maxAttempts: 2, maxDuration: 600, ttl: "10m" }
    expect(ScheduleRunOptions.parse(all)).toEqual(all)
    expect(readScheduleRunOptions(all)).toEqual(all)
    expect(ScheduleRunOptions.safeParse({ ttl: 3600 }).success).toBe(true)
    for (const bad of [{ ttl: "400d" }, { ttl: 0 }, { maxDuration: 0 }, { payload: {} }]) {
      expect(ScheduleRunOptions.safeParse(bad).success).toBe(false)
    }
  })

  test("the stored reader drops what it cannot read instead of failing a fire", () => {
    expect(readScheduleRunOptions({ maxAttempts: 2, ttl: "soon", tags: "x" })).toEqual({
      maxAttempts: 2,
    })
    expect(readScheduleRunOptions(null)).toEqual({})
    expect(readScheduleRunOptions("garbage")).toEqual({})
  })
})
