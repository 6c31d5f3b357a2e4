import { describe, expect, test } from "bun:test"
import { burstFigures, cronFigures, cronLateness, MINUTE, nextMinute } from "./results.ts"

describe("bench/peers figures", () => {
  test("a burst's figures: percentiles, the last start and jobs per second from the due instant", () => {
    const late = Array.from({ length: 100 }, (_, i) => (i + 1) * 10)
    expect(burstFigures(late, 200)).toEqual({
      count: 100,
      expected: 200,
      p50: 500,
      p99: 990,
      last: 1000,
      perSecond: 100,
    })
  })

  test("a cron job's lateness counts from the minute it started in, within the measured slots", () => {
    const first = 10 * MINUTE
    const last = 12 * MINUTE
    expect(cronLateness(first + 250, first, last)).toBe(250)
    expect(cronLateness(last + 59_000, first, last)).toBe(59_000)
    expect(cronLateness(first - 1, first, last)).toBeUndefined()
    expect(cronLateness(last + MINUTE, first, last)).toBeUndefined()
    expect(cronFigures([5, 1, 3], 4)).toEqual({ count: 3, expected: 4, p50: 3, p99: 5, max: 5 })
  })

  test("the first measured slot leaves the margin for setting the schedules up", () => {
    expect(nextMinute(10 * MINUTE - 30_000, 20_000)).toBe(10 * MINUTE)
    expect(nextMinute(10 * MINUTE - 10_000, 20_000)).toBe(11 * MINUTE)
    expect(nextMinute(10 * MINUTE, 0)).toBe(10 * MINUTE)
  })
})
