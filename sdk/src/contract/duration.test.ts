import { describe, expect, test } from "bun:test"
import { DurationString, durationMs, MAX_WAIT_MS, parseDuration } from "./duration.ts"

describe("durations", () => {
  test("parseDuration sums units and refuses anything else", () => {
    expect(parseDuration("500ms")).toBe(500)
    expect(parseDuration("10s")).toBe(10_000)
    expect(parseDuration("1h30m")).toBe(5_400_000)
    expect(parseDuration("2d")).toBe(172_800_000)
    expect(parseDuration("1d2h3m4s5ms")).toBe(93_784_005)
    for (const bad of ["", "10", "1.5h", "1 h", "h", "10x", "-1s", "2w", "1H", "１s"]) {
      expect(parseDuration(bad)).toBeNull()
    }
  })

  test("durationMs reads a bare number as seconds", () => {
    expect(durationMs(60)).toBe(60_000)
    expect(durationMs("10m")).toBe(600_000)
    expect(durationMs(Number.NaN)).toBeNull()
    expect(durationMs("soon")).toBeNull()
  })

  test("DurationString refuses with one message; a year is the longest wait", () => {
    expect(DurationString.safeParse("5m").success).toBe(true)
    expect(DurationString.safeParse("5 m").error?.issues[0]?.message).toBe(
      "must be a duration such as 500ms, 10s, 5m, 2h, 1d or 1h30m",
    )
    expect(parseDuration("365d")).toBe(MAX_WAIT_MS)
  })
})
