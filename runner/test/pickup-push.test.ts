import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Sql } from "@helmr/migrations/db"
import { startRunLoop } from "../src/run/run-loop.ts"
import { waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest, waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// Push pickup: with the safety recheck, the sweep and the poll ten minutes apart, an idle runner
// only leases what it is woken for (the enqueue's wake-up, or the queue's next due time), and a
// waiting run resumes only when told (a child's end notifies its commit).

let h: RunnerHarness
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("pickuppush", {
    HELMR_SANDBOX_DRIVER: "local",
    HELMR_RUNNER_RECHECK_MS: "600000",
    HELMR_RUNNER_SWEEP_MS: "600000",
    HELMR_RUNNER_POLL_MS: "600000",
  })
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
  // Idle: the loop finished its first look and sleeps.
  await Bun.sleep(500)
}, 60_000)
afterAll(() => h?.stop(), 60_000)

/** queued → starting, from the two transition events' commit times. */
async function pickupMs(sql: Sql, runId: string): Promise<number> {
  const [row] = await sql<{ ms: number }[]>`
    select extract(epoch from (s.created_at - q.created_at)) * 1000 as ms
    from run_events q join run_events s on s.run_id = q.run_id
    where q.run_id = ${runId} and q.type = 'transition' and q.data->>'to' = 'queued'
      and s.type = 'transition' and s.data->>'to' = 'starting'`
  return Number(row?.ms)
}

describe("push pickup", () => {
  test("a run triggered on an idle runner starts without waiting for a poll", async () => {
    const picked: number[] = []
    for (let i = 0; i < 3; i++) {
      await Bun.sleep(300)
      const run = await h.trigger({ deploymentId, taskId: "hello", payload: { name: `p${i}` } })
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed"], 20_000)
      expect(done.status).toBe("succeeded")
      picked.push(await pickupMs(h.db.sql, run.id))
    }
    // Far below the 10-minute recheck; generous for a loaded 2-core machine.
    for (const ms of picked) expect(ms).toBeLessThan(1_000)
  }, 60_000)

  test("a delayed run starts at its time, not at the recheck", async () => {
    const availableAt = new Date(Date.now() + 1_500)
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "later" },
      availableAt,
    })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed"], 20_000)
    expect(done.status).toBe("succeeded")
    const [started] = await h.db.sql<{ at: Date }[]>`
      select created_at as at from run_events
      where run_id = ${run.id} and type = 'transition' and data->>'to' = 'starting'`
    const late = (started?.at.getTime() ?? 0) - availableAt.getTime()
    expect(late).toBeGreaterThanOrEqual(-5)
    expect(late).toBeLessThan(1_000)
  }, 60_000)

  test("a run put in the queue while the runner is busy is taken when a slot frees", async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        h.trigger({ deploymentId, taskId: "hello", payload: { name: `b${i}` } }),
      ),
    )
    // 6 runs on 4 slots: the last two start when a slot frees (the recheck is 10 minutes away).
    for (const run of runs) {
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed"], 20_000)
      expect(done.status).toBe("succeeded")
    }
  }, 60_000)

  test("a parent waiting for its child resumes when the child ends, not at a poll", async () => {
    const waits = await h.deploy({
      bundle: await waitsBundle(),
      manifest: waitsManifest(),
      current: true,
    })
    const parent = await h.trigger({
      deploymentId: waits,
      taskId: "parent",
      payload: { n: 21, cron: "15 4 * * *" },
    })
    const done = await waitForRun(h.db.sql, parent.id, ["succeeded", "failed"], 30_000)
    expect(done.status).toBe("succeeded")
    const childId = (done.output as { child: { id: string } }).child.id
    // The child's end (whose statement woke the parent) → the parent running again.
    const [gap] = await h.db.sql<{ ms: number }[]>`
      select extract(epoch from (r.created_at - c.created_at)) * 1000 as ms
      from run_events c, run_events r
      where c.run_id = ${childId} and c.type = 'transition' and c.data->>'to' = 'succeeded'
        and r.run_id = ${parent.id} and r.type = 'transition' and r.data->>'to' = 'running'
        and r.data->>'reason' = 'resumed'`
    expect(gap).toBeDefined()
    // The poll and the recheck are ten minutes away; generous for a loaded 2-core machine.
    expect(Number(gap?.ms)).toBeLessThan(1_000)
  }, 60_000)

  test("more free slots than a claim batch: the runs are claimed in several batches, each once", async () => {
    // Last in this file: the harness's loop gives way to one with 6 slots and batches of 2.
    await h.stopLoop()
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        h.trigger({ deploymentId, taskId: "hello", payload: { name: `m${i}` } }),
      ),
    )
    const stop = new AbortController()
    const loop = startRunLoop(
      h.runner.deps,
      { concurrency: 6, claimBatch: 2, pollMs: 50, sweepMs: 600_000, drainMs: 1_000 },
      stop.signal,
    )
    try {
      for (const run of runs) {
        const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed"], 20_000)
        expect(done.status).toBe("succeeded")
        expect(done.attempt).toBe(1)
      }
    } finally {
      stop.abort()
      await loop.stopped
    }
    // One claim statement, one transaction time: its runs' `starting` events share created_at.
    const claims = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from run_events
      where run_id = any(${runs.map((r) => r.id)}::text[]) and type = 'transition'
        and data->>'to' = 'starting'
      group by created_at`
    expect(claims.reduce((sum, c) => sum + c.n, 0)).toBe(6)
    expect(Math.max(...claims.map((c) => c.n))).toBeLessThanOrEqual(2)
    expect(claims.length).toBeGreaterThanOrEqual(3)
  }, 60_000)
})
