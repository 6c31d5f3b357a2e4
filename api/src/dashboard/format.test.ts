import { describe, expect, test } from "bun:test"
import { formatDuration, formatInZone, formatUtc, fromLocalInput } from "./format.ts"

describe("formatInZone", () => {
  test.each([
    ["2026-03-29T00:59:59Z", "Europe/Paris", "2026-03-29 01:59:59 GMT+1"],
    // The spring-forward day: 01:00 UTC is 03:00 in Paris, now on summer time.
    ["2026-03-29T01:00:00Z", "Europe/Paris", "2026-03-29 03:00:00 GMT+2"],
    ["2026-12-01T10:00:00Z", "UTC", "2026-12-01 10:00:00 UTC"],
    ["2026-06-01T12:00:00Z", "America/New_York", "2026-06-01 08:00:00 EDT"],
    ["2026-01-01T00:30:00Z", "Asia/Kolkata", "2026-01-01 06:00:00 GMT+5:30"],
  ])("%s in %s", (iso, zone, expected) => {
    expect(formatInZone(new Date(iso), zone)).toBe(expected)
  })
})

test("formatUtc", () => {
  expect(formatUtc(new Date("2026-12-01T10:00:05.123Z"))).toBe("2026-12-01 10:00:05 UTC")
})

test.each([
  [-5, "0 s"],
  [1234, "1.2 s"],
  [42_000, "42 s"],
  [184_000, "3 min 4 s"],
  [7_500_000, "2 h 5 min"],
])("formatDuration(%d)", (ms, expected) => {
  expect(formatDuration(ms)).toBe(expected)
})

test.each([
  [undefined, undefined],
  ["", undefined],
  ["2026-12-01T10:30", "2026-12-01T10:30:00.000Z"],
  ["2026-12-01T10:30:15", "2026-12-01T10:30:15.000Z"],
  ["2026-13-01T10:30", null],
  ["yesterday", null],
])("fromLocalInput(%p)", (input, expected) => {
  expect(fromLocalInput(input)).toBe(expected as never)
})
