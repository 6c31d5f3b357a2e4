import { afterAll, beforeAll, expect, test } from "bun:test"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { leaseRuns } from "@helmr/migrations/valkey"
import { claimLeasedRuns } from "../src/run/claim.ts"
import type { RunnerDeps } from "../src/run/deps.ts"
import { createEventLog } from "../src/run/event-log.ts"
import { finishAttempt } from "../src/run/finish.ts"
import { recoverStaleRun } from "../src/run/recovery.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// An attempt that ends after its run was taken from it changes nothing: not the run, and not the
// run's queue entry, which belongs to the next attempt. The harness's own loop is stopped; the
// runner id `finish-a` claims by hand.

let h: RunnerHarness
let deploymentId: string
let a: RunnerDeps

beforeAll(async () => {
  h = await startRunnerHarness("finishguard", { HELMR_SANDBOX_DRIVER: "local" })
  await h.stopLoop()
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
  a = { ...h.runner.deps, runnerId: "finish-a" }
}, 60_000)
afterAll(() => h?.stop(), 60_000)

async function claimOne(): Promise<RunRow> {
  const run = await h.trigger({
    deploymentId,
    taskId: "hello",
    payload: { name: "guard" },
    maxAttempts: 3,
  })
  const leased = await leaseRuns(a.valkey, a.keys, { leaseMs: a.leaseMs, limit: 10 })
  // (An earlier test's requeued run may come due again meanwhile: only this one is claimed.)
  expect(leased).toContain(run.id)
  const { claimed } = await claimLeasedRuns(a, [run.id])
  expect(claimed.map((r) => r.id)).toEqual([run.id])
  return claimed[0] as RunRow
}

const queued = async (runId: string) => (await a.valkey.zscore(a.keys.runQueue, runId)) !== null
const rowOf = async (runId: string) =>
  (await h.db.sql<RunRow[]>`select * from runs where id = ${runId}`)[0] as RunRow

/** `claimed`'s attempt ends as its task succeeded with `output`, whoever holds the run now. */
const succeed = (claimed: RunRow, output: number) =>
  finishAttempt(
    a,
    claimed,
    { status: "succeeded", output, retryable: false },
    createEventLog({ ...a, runId: claimed.id }),
    null,
  )

test("an attempt ending after a sweep requeued its run leaves the run and its queue entry alone", async () => {
  const claimed = await claimOne()
  // A sweep that saw the lease lapse (as after an outage) gives the run to its next attempt.
  await h.db
    .sql`update runs set lease_expires_at = now() - interval '1 second' where id = ${claimed.id}`
  expect(await recoverStaleRun(h.runner.deps, await rowOf(claimed.id), "lease expired")).toBe(
    "retried",
  )
  expect(await queued(claimed.id)).toBe(true)
  // The first attempt still ends, as if its task had finished meanwhile.
  await succeed(claimed, 1)
  const row = await rowOf(claimed.id)
  expect({ status: row.status, runnerId: row.runnerId }).toEqual({
    status: "queued",
    runnerId: null,
  })
  // Still leasable: a runner finds it without waiting for the dispatcher's queue repair.
  expect(await queued(claimed.id)).toBe(true)
})

test("an attempt ending after its run was canceled elsewhere takes the run out of the queue", async () => {
  const claimed = await claimOne()
  const canceled = await transitionRun(
    h.db.sql,
    claimed.id,
    ["starting"],
    "canceled",
    { leaseExpiresAt: null },
    { reason: "test" },
  )
  expect(canceled?.status).toBe("canceled")
  await succeed(claimed, 1)
  expect(await queued(claimed.id)).toBe(false)
})

test("an attempt that ends its run takes the run out of the queue", async () => {
  const claimed = await claimOne()
  await transitionRun(
    h.db.sql,
    claimed.id,
    ["starting"],
    "running",
    {},
    {},
    { runnerId: a.runnerId, attempt: claimed.attempt },
  )
  await succeed(claimed, 2)
  const row = await rowOf(claimed.id)
  expect({ status: row.status, output: row.output }).toEqual({ status: "succeeded", output: 2 })
  expect(await queued(claimed.id)).toBe(false)
})
