import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { RunRow } from "@helmr/migrations/rows"
import { walkRun } from "@helmr/migrations/testing"
import { enqueueRun, leaseRuns } from "@helmr/migrations/valkey"
import { claimLeasedRuns } from "../src/run/claim.ts"
import type { RunnerDeps } from "../src/run/deps.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// The batched claim keeps the one-by-one guarantees. The harness's own loop is stopped: two
// consumers (runner ids) lease and claim from the one queue by hand.

let h: RunnerHarness
let deploymentId: string
let a: RunnerDeps
let b: RunnerDeps

beforeAll(async () => {
  h = await startRunnerHarness("claimbatch", { HELMR_SANDBOX_DRIVER: "local" })
  await h.stopLoop()
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
  a = { ...h.runner.deps, runnerId: "claim-a" }
  b = { ...h.runner.deps, runnerId: "claim-b" }
}, 60_000)
afterAll(() => h?.stop(), 60_000)

/** Leases and claims batches of `batch` until the queue has nothing due. */
async function drain(deps: RunnerDeps, batch: number): Promise<RunRow[]> {
  const claimed: RunRow[] = []
  for (;;) {
    const leased = await leaseRuns(deps.valkey, deps.keys, { leaseMs: deps.leaseMs, limit: batch })
    if (leased.length === 0) return claimed
    claimed.push(...(await claimLeasedRuns(deps, leased)).claimed)
  }
}

describe("batched claim", () => {
  test("two consumers draining one queue never claim a run twice", async () => {
    const runs = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        h.trigger({ deploymentId, taskId: "hello", payload: { name: `c${i}` } }),
      ),
    )
    // Each leased batch is handed to both consumers at once, as if its lease had lapsed under
    // the first: the compare-and-set must still give every run one owner.
    const byA: RunRow[] = []
    const byB: RunRow[] = []
    for (;;) {
      const leased = await leaseRuns(a.valkey, a.keys, { leaseMs: a.leaseMs, limit: 40 })
      if (leased.length === 0) break
      const [ra, rb] = await Promise.all([
        claimLeasedRuns(a, leased),
        claimLeasedRuns(b, [...leased].reverse()),
      ])
      byA.push(...ra.claimed)
      byB.push(...rb.claimed)
    }
    const ids = [...byA, ...byB].map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.sort()).toEqual(runs.map((r) => r.id).sort())
    const rows = await h.db.sql<{ runnerId: string; attempt: number; n: number }[]>`
      select runner_id, attempt, count(*)::int as n from runs
      where id = any(${runs.map((r) => r.id)}::text[]) and status = 'starting'
      group by runner_id, attempt order by runner_id`
    // Who won which batch is up to the race; every run is starting, at attempt 1, under its winner.
    expect([...rows]).toEqual(
      [
        { runnerId: "claim-a", attempt: 1, n: byA.length },
        { runnerId: "claim-b", attempt: 1, n: byB.length },
      ].filter((r) => r.n > 0),
    )
    const [events] = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from run_events
      where run_id = any(${ids}::text[]) and type = 'transition' and data->>'to' = 'starting'`
    expect(events?.n).toBe(300)
  }, 60_000)

  test("a run whose lease lapses is retried by the next consumer, then claimed again", async () => {
    const short = { ...a, leaseMs: 300 }
    const run = await h.trigger({ deploymentId, taskId: "hello", maxAttempts: 2 })
    const leased = await leaseRuns(short.valkey, short.keys, { leaseMs: 300, limit: 10 })
    expect(leased).toEqual([run.id])
    const first = await claimLeasedRuns(short, leased)
    expect(first.claimed.map((r) => [r.id, r.runnerId, r.attempt])).toEqual([
      [run.id, "claim-a", 1],
    ])
    // claim-a dies without a heartbeat; after the lease the run is due again for claim-b.
    await Bun.sleep(400)
    const again = await leaseRuns(b.valkey, b.keys, { leaseMs: b.leaseMs, limit: 10 })
    expect(again).toEqual([run.id])
    expect((await claimLeasedRuns(b, again)).claimed).toEqual([])
    const [retried] = await h.db.sql<RunRow[]>`select * from runs where id = ${run.id}`
    expect(retried?.status).toBe("queued")
    expect(retried?.runnerId).toBeNull()
    // The retry's backoff (HELMR_RETRY_BASE_MS 100 in the harness), then a new attempt.
    await Bun.sleep(Math.max(0, (retried?.availableAt.getTime() ?? 0) - Date.now() + 50))
    const claimed = await drain(b, 10)
    expect(claimed.map((r) => [r.id, r.runnerId, r.attempt])).toEqual([[run.id, "claim-b", 2]])
  }, 60_000)

  test("a delayed run in a leased batch goes back to its time; the others are claimed", async () => {
    // The runs claimed above still hold their lease entries: start from an empty queue.
    await a.valkey.del(a.keys.runQueue)
    const now = await h.trigger({ deploymentId, taskId: "hello" })
    const later = await h.trigger({
      deploymentId,
      taskId: "hello",
      availableAt: new Date(Date.now() + 60_000),
    })
    // Leased with a clock past the delay (as a skewed or stale score would): claim looks at Postgres.
    const leased = await leaseRuns(a.valkey, a.keys, {
      now: Date.now() + 120_000,
      leaseMs: a.leaseMs,
      limit: 10,
    })
    expect(leased.sort()).toEqual([now.id, later.id].sort())
    const { claimed } = await claimLeasedRuns(a, leased)
    expect(claimed.map((r) => r.id)).toEqual([now.id])
    const score = await a.valkey.zscore(a.keys.runQueue, later.id)
    expect(Number(score)).toBe(later.availableAt.getTime())
  }, 60_000)

  test("claimed runs come back whole; a finished run and an unknown id in the batch leave the queue", async () => {
    await a.valkey.del(a.keys.runQueue)
    const plain = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "whole" } })
    const finished = await h.trigger({ deploymentId, taskId: "hello" })
    await walkRun(h.db.sql, finished.id, ["starting", "running", "succeeded"])
    await enqueueRun(a.valkey, a.keys, "run_missing")
    const leased = await leaseRuns(a.valkey, a.keys, { leaseMs: a.leaseMs, limit: 10 })
    expect(leased.sort()).toEqual([plain.id, finished.id, "run_missing"].sort())
    const { claimed, resume } = await claimLeasedRuns(a, leased)
    expect(resume).toEqual([])
    // The plain check reads a few columns only; what the claim hands to the attempt is the row.
    const [row] = await h.db.sql<RunRow[]>`select * from runs where id = ${plain.id}`
    expect(claimed).toEqual([row as RunRow])
    expect(claimed[0]).toMatchObject({ payload: { name: "whole" }, status: "starting", attempt: 1 })
    expect(await a.valkey.zrange(a.keys.runQueue, 0, -1)).toEqual([plain.id])
  }, 60_000)

  test("a limited queue's runs in a leased batch: its free slots are claimed in one transaction, the rest parked", async () => {
    await a.valkey.del(a.keys.runQueue)
    const gated = { queue: "trio", concurrencyLimit: 3 }
    // Another runner's run holds one of the three slots.
    const held = await h.trigger({ deploymentId, taskId: "hello", ...gated })
    await walkRun(h.db.sql, held.id, ["starting", "running"])
    await a.valkey.zrem(a.keys.runQueue, held.id)
    const runs: RunRow[] = []
    // Ids sort by their millisecond: a pause between runs makes "oldest" unambiguous.
    for (let i = 0; i < 6; i++) {
      runs.push(await h.trigger({ deploymentId, taskId: "hello", ...gated }))
      await Bun.sleep(2)
    }
    const plain = await h.trigger({ deploymentId, taskId: "hello" })
    const other = await h.trigger({
      deploymentId,
      taskId: "hello",
      queue: "duo",
      concurrencyLimit: 2,
    })
    const leased = await leaseRuns(a.valkey, a.keys, { leaseMs: a.leaseMs, limit: 20 })
    expect(leased.sort()).toEqual([...runs, plain, other].map((r) => r.id).sort())
    const before = Date.now()
    const { claimed } = await claimLeasedRuns(a, leased)
    // Two free slots of trio, its oldest two runs; the unlimited run; duo's one run.
    const ids = runs.map((r) => r.id)
    expect(claimed.map((r) => r.id).sort()).toEqual(
      [ids[0], ids[1], plain.id, other.id].map(String).sort(),
    )
    expect(claimed.every((r) => r.status === "starting" && r.runnerId === "claim-a")).toBe(true)
    // The two of trio were claimed by one statement: their events share its transaction's time.
    const starts = await h.db.sql<{ at: Date }[]>`
      select distinct created_at as at from run_events
      where run_id = any(${ids.slice(0, 2)}::text[]) and data->>'to' = 'starting'`
    expect(starts.length).toBe(1)
    // The other four stay queued, parked behind the gate until a slot frees or their recheck.
    const rest = ids.slice(2)
    const [{ queued } = { queued: 0 }] = await h.db.sql<{ queued: number }[]>`
      select count(*)::int as queued from runs
      where id = any(${rest}::text[]) and status = 'queued' and attempt = 0`
    expect(queued).toBe(4)
    const parked = await a.valkey.zrange(a.keys.runGateParked(`${h.environmentId}|trio|`), 0, -1)
    expect(parked.sort()).toEqual([...rest].sort())
    for (const id of rest) {
      const score = Number(await a.valkey.zscore(a.keys.runQueue, id))
      expect(score).toBeGreaterThanOrEqual(before + a.gateRecheckMs)
    }
  }, 60_000)

  test("two consumers claiming one limited queue's batch at once never pass its limit", async () => {
    await a.valkey.del(a.keys.runQueue)
    const gated = { queue: "quad", concurrencyLimit: 4 }
    const runs: RunRow[] = []
    for (let i = 0; i < 10; i++)
      runs.push(await h.trigger({ deploymentId, taskId: "hello", ...gated }))
    const leased = await leaseRuns(a.valkey, a.keys, { leaseMs: a.leaseMs, limit: 20 })
    expect(leased.length).toBe(10)
    const [ra, rb] = await Promise.all([
      claimLeasedRuns(a, leased),
      claimLeasedRuns(b, [...leased].reverse()),
    ])
    const ids = [...ra.claimed, ...rb.claimed].map((r) => r.id)
    expect(ids.length).toBe(4)
    expect(new Set(ids).size).toBe(4)
    const rows = await h.db.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from runs
      where id = any(${runs.map((r) => r.id)}::text[]) group by status order by status`
    expect([...rows]).toEqual([
      { status: "queued", n: 6 },
      { status: "starting", n: 4 },
    ])
  }, 60_000)
})
