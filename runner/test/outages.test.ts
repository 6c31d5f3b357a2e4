import { afterAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { BASE_IMAGE, basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { type PrivateDockerd, startPrivateDockerd } from "../src/testing/private-dockerd.ts"

// Outages that are no run's fault (the whole-stack fault test found both): the runner's Docker
// engine restarting, and Postgres down for longer than a run's lease while the runner lives on.

const harnesses: RunnerHarness[] = []
let engine: PrivateDockerd | undefined

afterAll(async () => {
  // The engine goes even if a harness cannot stop cleanly (its engine stopped by a failed test).
  for (const h of harnesses) await h.stop().catch((error: unknown) => console.error(error))
  await engine?.stop({ wipe: true })
}, 120_000)

describe("outages", () => {
  test("while its engine does not answer, the runner takes no run and uses no attempt", async () => {
    engine = await startPrivateDockerd(`eo${randomBytes(2).toString("hex")}`, [BASE_IMAGE])
    const h = await startRunnerHarness("i6engine", {
      HELMR_DOCKER_SOCKET: engine.socket,
      HELMR_FIREWALL: "off",
      HELMR_RUNNER_SWEEP_MS: "200",
    })
    harnesses.push(h)
    const deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
    const warm = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "warm" } })
    expect(
      (await waitForRun(h.db.sql, warm.id, ["succeeded", "failed", "crashed"], 180_000)).status,
    ).toBe("succeeded")

    await engine.stop()
    const runs = [
      await h.trigger({ deploymentId, taskId: "hello", payload: { name: "a" }, maxAttempts: 1 }),
      await h.trigger({ deploymentId, taskId: "hello", payload: { name: "b" }, maxAttempts: 1 }),
    ]
    // The first lease finds the engine gone: that run goes back unharmed and leasing stops.
    const deadline = Date.now() + 30_000
    let requeued: unknown[] = []
    while (requeued.length === 0 && Date.now() < deadline) {
      for (const run of runs) {
        requeued.push(
          ...(await runEvents(h.db.sql, run.id)).filter(
            (e) => e.data?.reason === "engine unavailable",
          ),
        )
      }
      await Bun.sleep(100)
    }
    expect(requeued[0]).toMatchObject({
      data: {
        from: "starting",
        to: "queued",
        error: { message: expect.stringContaining("the container engine does not answer") },
      },
    })
    await Bun.sleep(3_000)
    const meanwhile = await h.db.sql<{ status: string; attempt: number }[]>`
      select status, attempt from runs where id = any(${runs.map((r) => r.id)}::text[])`
    expect(meanwhile.map((r) => ({ ...r }))).toEqual([
      { status: "queued", attempt: 0 },
      { status: "queued", attempt: 0 },
    ])
    // Not a run a second: a handful of tries at most while the engine was away.
    requeued = []
    for (const run of runs) {
      requeued.push(
        ...(await runEvents(h.db.sql, run.id)).filter(
          (e) => e.data?.reason === "engine unavailable",
        ),
      )
    }
    expect(requeued.length).toBeLessThanOrEqual(6)

    await engine.start()
    const done = await Promise.all(
      runs.map((r) => waitForRun(h.db.sql, r.id, ["succeeded", "failed", "crashed"], 120_000)),
    )
    expect(done.map((r) => ({ status: r.status, attempt: r.attempt }))).toEqual([
      { status: "succeeded", attempt: 1 },
      { status: "succeeded", attempt: 1 },
    ])
  }, 300_000)

  test("a run whose lease lapsed while its runner lives on is not taken from it", async () => {
    // A long lease (heartbeat every 10 s) and a fast sweep: the sweep sees the lapsed lease first.
    const h = await startRunnerHarness("i6ownlease", {
      HELMR_SANDBOX_DRIVER: "local",
      HELMR_RUNNER_LEASE_MS: "30000",
      HELMR_RUNNER_SWEEP_MS: "100",
    })
    harnesses.push(h)
    const deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "outage", delayMs: 2_000 },
      maxAttempts: 3,
    })
    await waitForRun(h.db.sql, run.id, ["running"], 60_000)
    // As after a Postgres outage longer than the lease: the heartbeat could not renew it.
    await h.db
      .sql`update runs set lease_expires_at = now() - interval '1 second' where id = ${run.id}`
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
    expect({ status: done.status, attempt: done.attempt }).toEqual({
      status: "succeeded",
      attempt: 1,
    })
    const causes = (await runEvents(h.db.sql, run.id)).map((e) => e.data?.cause).filter(Boolean)
    expect(causes).toEqual([])
  }, 120_000)
})
