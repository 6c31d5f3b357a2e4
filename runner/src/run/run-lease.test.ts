import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "@helmr/migrations/testing"
import { dequeueRun, enqueueRun, leaseRuns } from "@helmr/migrations/valkey"
import { extendRunLease } from "./run-lease.ts"

// Moved from migrations/src/valkey/valkey.test.ts with the heartbeat script, which only the
// runner uses.
const t = createTestValkey("runlease")
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
