import { describe, expect, test } from "bun:test"
import { planFire } from "./plan.ts"

const at = (iso: string) => new Date(iso)

describe("planFire", () => {
  test("on time: the next slot follows the fired one, nothing skipped", () => {
    const plan = planFire({
      cron: "*/5 * * * *",
      timezone: "UTC",
      slot: at("2025-01-01T10:00:00Z"),
      now: at("2025-01-01T10:00:00.040Z"),
      upcomingCount: 3,
    })
    expect(plan.next).toEqual(at("2025-01-01T10:05:00Z"))
    expect(plan.upcoming).toEqual([
      at("2025-01-01T10:05:00Z"),
      at("2025-01-01T10:10:00Z"),
      at("2025-01-01T10:15:00Z"),
    ])
    expect(plan.skipped).toBeNull()
  })

  test("after downtime: no backfill, the passed slots are skipped, upcoming is future only", () => {
    const now = at("2025-01-01T10:17:30Z")
    const plan = planFire({
      cron: "*/5 * * * *",
      timezone: "UTC",
      slot: at("2025-01-01T10:00:00Z"),
      now,
      upcomingCount: 2,
    })
    expect(plan.next).toEqual(at("2025-01-01T10:20:00Z"))
    expect(plan.upcoming.every((d) => d > now)).toBe(true)
    expect(plan.skipped).toEqual({
      first: at("2025-01-01T10:05:00Z"),
      last: at("2025-01-01T10:15:00Z"),
      count: 3,
      complete: true,
    })
  })

  test("a slot exactly at now is skipped, not fired twice", () => {
    const plan = planFire({
      cron: "* * * * *",
      timezone: "UTC",
      slot: at("2025-01-01T10:00:00Z"),
      now: at("2025-01-01T10:01:00Z"),
      upcomingCount: 1,
    })
    expect(plan.next).toEqual(at("2025-01-01T10:02:00Z"))
    expect(plan.skipped?.count).toBe(1)
    expect(plan.skipped?.first).toEqual(at("2025-01-01T10:01:00Z"))
  })

  test("a very long downtime is bounded: the range ends at dispatch time", () => {
    const now = at("2025-03-01T00:00:30Z")
    const plan = planFire({
      cron: "* * * * *",
      timezone: "UTC",
      slot: at("2025-01-01T00:00:00Z"),
      now,
      upcomingCount: 1,
      skipLimit: 100,
    })
    expect(plan.skipped).toEqual({
      first: at("2025-01-01T00:01:00Z"),
      last: now,
      count: 100,
      complete: false,
    })
    expect(plan.next).toEqual(at("2025-03-01T00:01:00Z"))
  })

  test("a slot that is not a cron occurrence (a seeded or edited cursor) still advances", () => {
    const plan = planFire({
      cron: "0 * * * *",
      timezone: "Europe/Paris",
      slot: at("2025-01-01T10:17:00Z"),
      now: at("2025-01-01T10:17:01Z"),
      upcomingCount: 2,
    })
    expect(plan.next).toEqual(at("2025-01-01T11:00:00Z"))
    expect(plan.skipped).toBeNull()
  })
})
