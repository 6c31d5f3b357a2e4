import { describe, expect, test } from "bun:test"
import { computeRunTiming } from "./run-timing.ts"

const now = new Date("2026-03-01T12:00:00.000Z")

describe("computeRunTiming", () => {
  test("no options: now, never expires", () => {
    expect(computeRunTiming({}, now)).toEqual({ availableAt: now, expiresAt: null })
  })

  test("a duration delays from now; ttl counts from when the run may start", () => {
    expect(computeRunTiming({ delay: "1h30m", ttl: "10m" }, now)).toEqual({
      availableAt: new Date("2026-03-01T13:30:00.000Z"),
      expiresAt: new Date("2026-03-01T13:40:00.000Z"),
    })
    expect(computeRunTiming({ ttl: 60 }, now)).toEqual({
      availableAt: now,
      expiresAt: new Date("2026-03-01T12:01:00.000Z"),
    })
  })

  test("an absolute time with offset; a past time means now", () => {
    expect(computeRunTiming({ delay: "2026-03-01T14:00:00+01:00" }, now)).toEqual({
      availableAt: new Date("2026-03-01T13:00:00.000Z"),
      expiresAt: null,
    })
    expect(computeRunTiming({ delay: "2020-01-01T00:00:00Z" }, now)).toEqual({
      availableAt: now,
      expiresAt: null,
    })
  })

  test("out-of-range values name their field", () => {
    expect(computeRunTiming({ delay: "999999999d" }, now)).toEqual([
      { path: "options.delay", message: "must be at most 365 days away" },
    ])
    expect(computeRunTiming({ delay: "366d", ttl: "500ms" }, now)).toEqual([
      { path: "options.delay", message: "must be at most 365 days away" },
      { path: "options.ttl", message: "must be between 1s and 365d" },
    ])
  })
})
