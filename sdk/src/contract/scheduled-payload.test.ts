import { describe, expect, test } from "bun:test"
import {
  buildScheduledPayload,
  MANUAL_SCHEDULE_ID,
  ScheduledTaskPayload,
} from "./scheduled-payload.ts"

const slot = new Date("2026-03-01T02:00:00.000Z")
const next = new Date("2026-03-02T02:00:00.000Z")

describe("buildScheduledPayload", () => {
  test("a fire carries every field as ISO strings", () => {
    const wire = buildScheduledPayload({
      slot,
      lastSlot: new Date("2026-02-28T02:00:00.000Z"),
      timezone: "Europe/Paris",
      scheduleId: "sched_x",
      externalId: "customer-42",
      upcoming: [next],
    })
    expect(wire).toEqual({
      timestamp: "2026-03-01T02:00:00.000Z",
      lastTimestamp: "2026-02-28T02:00:00.000Z",
      timezone: "Europe/Paris",
      scheduleId: "sched_x",
      externalId: "customer-42",
      upcoming: ["2026-03-02T02:00:00.000Z"],
    })
    expect(ScheduledTaskPayload.parse(wire).upcoming).toEqual([next])
  })

  test("a run now leaves out what it does not have", () => {
    const wire = buildScheduledPayload({
      slot,
      lastSlot: null,
      timezone: "UTC",
      scheduleId: MANUAL_SCHEDULE_ID,
      externalId: null,
      upcoming: [],
    })
    expect(wire).toEqual({
      timestamp: "2026-03-01T02:00:00.000Z",
      timezone: "UTC",
      scheduleId: "manual",
      upcoming: [],
    })
    expect(Object.keys(wire)).not.toContain("lastTimestamp")
  })
})
