import { describe, expect, test } from "bun:test"
import { Delay, parseDuration, Ttl } from "./index.ts"

describe("durations", () => {
  test("parseDuration sums units and refuses anything else", () => {
    expect(parseDuration("500ms")).toBe(500)
    expect(parseDuration("10s")).toBe(10_000)
    expect(parseDuration("1h30m")).toBe(5_400_000)
    expect(parseDuration("2d")).toBe(172_800_000)
    for (const bad of ["", "10", "1.5h", "1 h", "h", "10x", "-1s"]) {
      expect(parseDuration(bad)).toBeNull()
    }
  })

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
