import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "../testing.ts"
import { dequeueRun, enqueueRun, extendRunLease, leaseRuns } from "./run-queue.ts"
import { putScheduleEntry, readScheduleEntry, removeScheduleEntry } from "./schedule-entries.ts"

const t = createTestValkey("vk")
afterAll(() => t.cleanup())

describe("run queue", () => {
  test("leases only due runs, hides them until the lease deadline, then they are due again", async () => {
    const now = 1_000_000
    await enqueueRun(t.valkey, t.keys, "run_a", new Date(now - 10))
    await enqueueRun(t.valkey, t.keys, "run_b", new Date(now + 5_000))
    expect(await leaseRuns(t.valkey, t.keys, { now, leaseMs: 1_000, limit: 10 })).toEqual(["run_a"])
    expect(
      await leaseRuns(t.valkey, t.keys, { now: now + 500, leaseMs: 1_000, limit: 10 }),
    ).toEqual([])
    // The holder died: after the deadline the run is leasable again.
    expect(
      await leaseRuns(t.valkey, t.keys, { now: now + 1_001, leaseMs: 1_000, limit: 10 }),
    ).toEqual(["run_a"])
    // A heartbeat pushes the deadline out.
    expect(await extendRunLease(t.valkey, t.keys, "run_a", 10_000, now + 1_500)).toBe(true)
    expect(
      await leaseRuns(t.valkey, t.keys, { now: now + 5_001, leaseMs: 1_000, limit: 10 }),
    ).toEqual(["run_b"])
    await dequeueRun(t.valkey, t.keys, "run_a")
    expect(await extendRunLease(t.valkey, t.keys, "run_a", 10_000)).toBe(false)
  })
})

describe("schedule entries", () => {
  test("one replaceable entry per instance", async () => {
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "schedi_1",
      version: 1,
      nextFireAt: new Date(60_000),
    })
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "schedi_1",
      version: 2,
      nextFireAt: new Date(120_000),
    })
    expect(await t.valkey.zrange(t.keys.scheduleDue, 0, -1, "WITHSCORES")).toEqual([
      "schedi_1",
      "120000",
    ])
    expect(await readScheduleEntry(t.valkey, t.keys, "schedi_1")).toEqual({
      version: "2",
      slot: new Date(120_000),
    })
    await removeScheduleEntry(t.valkey, t.keys, "schedi_1")
    expect(await t.valkey.zcard(t.keys.scheduleDue)).toBe(0)
    expect(await readScheduleEntry(t.valkey, t.keys, "schedi_1")).toBeNull()
  })
})
