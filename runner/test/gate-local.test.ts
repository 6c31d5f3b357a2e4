import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { insertRun, transitionRun } from "@helmr/migrations/queries/runs"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { flowBundle, flowManifest, waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startDispatcherProcess } from "../src/testing/services.ts"

// The concurrency gate against a runner that died holding the only slot, with the local driver.

let h: RunnerHarness
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("i11gate", {
    HELMR_SANDBOX_DRIVER: "local",
    HELMR_RUNNER_GATE_RECHECK_MS: "400",
    // Above every limit below: only the gate, never the runner's own slots, holds a run back.
    HELMR_RUNNER_CONCURRENCY: "4",
  })
  deploymentId = await h.deploy({ bundle: await flowBundle(), manifest: flowManifest() })
}, 60_000)
afterAll(() => h?.stop(), 60_000)

const gated = { queue: "solo", concurrencyLimit: 1 }

describe("concurrency gate", () => {
  test("a slot held by a dead runner comes back when its lease lapses; the waiting run then starts", async () => {
    // Not enqueued: with push pickup this runner would take it before the "other runner" does.
    const { run: ghost } = await insertRun(h.db.sql, {
      environmentId: h.environmentId,
      deploymentId,
      taskId: "slow",
      payload: { ms: 10 },
      ...gated,
    })
    // Another runner took it and died: running, its lease lapsing in 2 s.
    const leaseExpiresAt = new Date(Date.now() + 2_000)
    await transitionRun(h.db.sql, ghost.id, ["queued"], "starting", {
      runnerId: "h11b-ghost-runner",
      leaseExpiresAt,
      attempt: 1,
    })
    await transitionRun(h.db.sql, ghost.id, ["starting"], "running")
    await h.vk.valkey.zadd(h.vk.keys.runQueue, leaseExpiresAt.getTime(), ghost.id)
    const waiting = await h.trigger({ deploymentId, taskId: "slow", payload: { ms: 10 }, ...gated })
    await Bun.sleep(800)
    const [held] = await h.db.sql<{ status: string; attempt: number }[]>`
      select status, attempt from runs where id = ${waiting.id}`
    expect(held).toEqual({ status: "queued", attempt: 0 })
    const parked = await h.vk.valkey.zrange(
      h.vk.keys.runGateParked(`${h.environmentId}|solo|`),
      0,
      -1,
    )
    expect(parked).toEqual([waiting.id])
    const done = await waitForRun(h.db.sql, waiting.id, ["succeeded", "failed"], 30_000)
    expect(done.status).toBe("succeeded")
    const lost = await waitForRun(h.db.sql, ghost.id, ["crashed"], 5_000)
    expect(lost.error).toMatchObject({ name: "RunnerLostError" })
    // The waiting run started only after the dead runner's run left `running`.
    const crashedAt = (await runEvents(h.db.sql, ghost.id)).find((e) => e.data?.to === "crashed")
    const startedAt = (await runEvents(h.db.sql, waiting.id)).find((e) => e.data?.to === "starting")
    expect(BigInt(startedAt?.id ?? 0)).toBeGreaterThan(BigInt(crashedAt?.id ?? 0))
  }, 60_000)

  test("waiting runs hold no slot", async () => {
    // Not enqueued, as above: another runner's run that now waits.
    const { run: asleep } = await insertRun(h.db.sql, {
      environmentId: h.environmentId,
      deploymentId,
      taskId: "slow",
      payload: { ms: 10 },
      ...gated,
      queue: "solo2",
    })
    await transitionRun(h.db.sql, asleep.id, ["queued"], "starting", { attempt: 1 })
    await transitionRun(h.db.sql, asleep.id, ["starting"], "running")
    await transitionRun(h.db.sql, asleep.id, ["running"], "waiting")
    const next = await h.trigger({
      deploymentId,
      taskId: "slow",
      payload: { ms: 10 },
      ...gated,
      queue: "solo2",
    })
    const done = await waitForRun(h.db.sql, next.id, ["succeeded", "failed"], 30_000)
    expect(done.status).toBe("succeeded")
  }, 60_000)

  test("wake-ups lost with Valkey's parked sets: the recheck still starts every run, within the limit", async () => {
    const gate = { queue: "lossy", concurrencyLimit: 1 }
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        h.trigger({ deploymentId, taskId: "slow", payload: { ms: 200 }, ...gate }),
      ),
    )
    const parkedKey = h.vk.keys.runGateParked(`${h.environmentId}|lossy|`)
    let most = 0
    const ids = runs.map((r) => r.id)
    for (;;) {
      await h.vk.valkey.del(parkedKey)
      const [row] = await h.db.sql<{ active: number; open: number }[]>`
        select count(*) filter (where status in ('starting', 'running'))::int as active,
          count(*) filter (where status in ('queued', 'starting', 'running'))::int as open
        from runs where id in ${h.db.sql(ids)}`
      most = Math.max(most, row?.active ?? 0)
      if (row?.open === 0) break
      await Bun.sleep(10)
    }
    expect(most).toBe(1)
    const done = await h.db.sql<
      { status: string }[]
    >`select status from runs where id in ${h.db.sql(ids)}`
    expect(done.map((r) => r.status)).toEqual(Array(4).fill("succeeded"))
  }, 60_000)

  test("a run resumed after a timer passes the gate again: it waits for the run holding the slot", async () => {
    const dispatcher = await startDispatcherProcess(h, { HELMR_TIMER_POLL_MS: "200" })
    try {
      const gate = { queue: "resume-gate", concurrencyLimit: 1 }
      const waits = await h.deploy({ bundle: await waitsBundle(), manifest: waitsManifest() })
      // A waits 2 s on a timer (holding no slot); B takes the slot and keeps it for 6 s.
      const a = await h.trigger({
        deploymentId: waits,
        taskId: "waiter",
        payload: { seconds: 2 },
        ...gate,
      })
      await waitForRun(h.db.sql, a.id, ["waiting"], 30_000)
      const b = await h.trigger({ deploymentId, taskId: "slow", payload: { ms: 6_000 }, ...gate })
      await waitForRun(h.db.sql, b.id, ["running"], 30_000)
      const doneB = await waitForRun(h.db.sql, b.id, ["succeeded", "failed"], 60_000)
      expect(doneB.status).toBe("succeeded")
      const doneA = await waitForRun(h.db.sql, a.id, ["succeeded", "failed"], 60_000)
      expect(doneA.status).toBe("succeeded")

      const moves = async (runId: string) =>
        (await runEvents(h.db.sql, runId))
          .filter((e) => e.type === "transition")
          .map((e) => ({ id: BigInt(e.id), ...(e.data as { from: string; to: string }) }))
      const movesA = await moves(a.id)
      const movesB = await moves(b.id)
      const bRunning = movesB.find((m) => m.to === "running")
      const bEnded = movesB.find((m) => m.to === "succeeded")
      const aQueued = movesA.find((m) => m.from === "waiting" && m.to === "queued")
      const aResumed = movesA.find((m) => m.from === "queued" && m.to === "running")
      // The timer completed while B held the slot (the case under test)...
      expect(aQueued?.id ?? 0n).toBeGreaterThan(bRunning?.id ?? 0n)
      expect(aQueued?.id ?? 0n).toBeLessThan(bEnded?.id ?? 0n)
      // ...and A went on only after B let the slot go.
      expect(aResumed?.id ?? 0n).toBeGreaterThan(bEnded?.id ?? 0n)
      const output = doneA.output as { waitedMs: number }
      expect(output.waitedMs).toBeGreaterThanOrEqual(1_900)
    } finally {
      dispatcher.kill("SIGTERM")
      await dispatcher.exited
    }
  }, 120_000)
})
