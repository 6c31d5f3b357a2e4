import { describe, expect, test } from "bun:test"
import { burstFigures, cronFigures, cronLatenesses, MINUTE, nextMinute } from "./results.ts"

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

  test("a schedule's job counts against the slot it names, within the measured slots", () => {
    const first = 10 * MINUTE
    const last = 12 * MINUTE
    const late = cronLatenesses(
      [
        { due: first, at: first + 250, schedule: 0 },
        { due: last, at: last + 61_000, schedule: 1 },
        { due: first - MINUTE, at: first + 5, schedule: 2 },
        { due: last + MINUTE, at: last + MINUTE + 5, schedule: 2 },
        { due: first, at: first + 9, schedule: undefined },
      ],
      first,
      last,
    )
    expect(late).toEqual([250, 61_000])
    expect(cronFigures([5, 1, 3], 4)).toEqual({ count: 3, expected: 4, p50: 3, p99: 5, max: 5 })
  })

  test("a job that names no slot is its schedule's next slot not yet counted before its start", () => {
    const first = 10 * MINUTE
    const last = 12 * MINUTE
    const at = (schedule: number, t: number) => ({ due: undefined, at: t, schedule })
    const late = cronLatenesses(
      [
        // before the measured slots; then every slot 30 s late, one out of order in the list
        at(0, first - 20_000),
        at(0, first + MINUTE + 30_000),
        at(0, first + 30_000),
        at(0, last + 30_000),
        // a duplicate of the first slot, then the second slot lost: the third counts for it
        at(1, first + 100),
        at(1, first + 200),
        at(1, last + 100),
        // none of its slots fired in time, then once after them: a lost slot counts as that late
        at(2, last + MINUTE + 1),
      ],
      first,
      last,
    )
    expect(late).toEqual([30_000, 30_000, 30_000, 100, MINUTE + 100, last + MINUTE + 1 - first])
  })

  test("the first measured slot leaves the margin for setting the schedules up", () => {
    expect(nextMinute(10 * MINUTE - 30_000, 20_000)).toBe(10 * MINUTE)
    expect(nextMinute(10 * MINUTE - 10_000, 20_000)).toBe(11 * MINUTE)
    expect(nextMinute(10 * MINUTE, 0)).toBe(10 * MINUTE)
  })
})
