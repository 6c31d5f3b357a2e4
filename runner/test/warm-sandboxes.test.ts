import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type Docker from "dockerode"
import { sweepSandboxes } from "../src/run/sandbox-sweep.ts"
import { publishCancel } from "../src/testing/cancel.ts"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest, waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startDispatcherProcess } from "../src/testing/services.ts"

// Warm sandboxes on real Docker with a real runner: a pooled container holds no secret and no run
// identity before its run, serves exactly one run, is destroyed after it, and the pool refills.
// The sandbox sweep leaves pooled and assigned containers alone; a restarted runner clears the
// pool its previous process left; pools of deployments no longer current are drained.

const SECRET = "sk-test-123"
let h: RunnerHarness
let docker: Docker
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("warm", {
    HELMR_RUNNER_WARM_MAX: "3",
    HELMR_RUNNER_WARM_REFRESH_MS: "200",
    HELMR_RUNNER_LEASE_MS: "10000",
  })
  docker = h.runner.docker as Docker
  await h.setSecret("OPENAI_API_KEY", SECRET)
  deploymentId = await h.deploy({
    bundle: await basicBundle(),
    manifest: basicManifest({ sandbox: { warm: 2 } }),
    current: true,
  })
}, 60_000)
afterAll(() => h?.stop(), 60_000)

/** Unassigned pooled containers of this test, running. */
async function pooled(): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({
    filters: { label: [`helmr.test=${h.testLabel}`, "helmr.warm"] },
  })
  return all.filter((c) => c.Names.some((n) => n.startsWith("/helmr-warm-")))
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

const poolOf = (n: number) =>
  until(`${n} pooled containers`, async () => {
    const list = await pooled()
    return list.length === n ? list : null
  })

/** The container (12-char id) and warm flag of the run's transition to running. */
async function servedBy(runId: string): Promise<{ sandbox: string; warm: boolean }> {
  const events = await runEvents(h.db.sql, runId)
  const running = events.find(
    (e) => e.type === "transition" && (e.data as { to?: string }).to === "running",
  )
  const data = running?.data as { sandbox?: string; warm?: boolean } | undefined
  return { sandbox: data?.sandbox ?? "", warm: data?.warm === true }
}

async function gone(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect()
    return false
  } catch (error) {
    return (error as { statusCode?: number }).statusCode === 404
  }
}

describe("warm sandboxes", () => {
  test("a pooled container holds no secret, serves one run, then is destroyed", async () => {
    const first = await poolOf(2)
    for (const c of first) {
      const info = await docker.getContainer(c.Id).inspect()
      const text = JSON.stringify(info)
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain("OPENAI_API_KEY")
      expect(text).not.toContain("run_")
      expect(text).not.toContain("sess_")
      expect((info.Config.Env ?? []).map((e) => e.split("=")[0]).sort()).toEqual([
        "HELMR_RUNTIME_NONCE",
        "HELMR_RUNTIME_WARM_ORPHAN_MS",
        "HOME",
        "PATH",
      ])
      // The same hardening as a run's container.
      expect(info.Config.User).toBe("1000:1000")
      expect(info.HostConfig.CapDrop).toEqual(["ALL"])
      expect(info.HostConfig.ReadonlyRootfs).toBe(true)
      expect(info.HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"])
      expect(info.HostConfig.NetworkMode).toBe(h.config.HELMR_SANDBOX_NETWORK)
    }
    expect(h.runner.deps.metrics.warm.get({ deployment: deploymentId, sandbox: "sb" })).toBe(2)
    expect(h.runner.deps.metrics.render()).toContain(
      `helmr_runner_warm_sandboxes{deployment="${deploymentId}",sandbox="sb"} 2`,
    )

    const served = new Set<string>()
    const pooledIds = new Set(first.map((c) => c.Id.slice(0, 12)))
    for (let i = 0; i < 4; i++) {
      const ready = await poolOf(2)
      for (const c of ready) pooledIds.add(c.Id.slice(0, 12))
      const run = await h.trigger({ deploymentId, taskId: "secretive" })
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
      expect(done.status).toBe("succeeded")
      // The secret reached the task with its assignment.
      expect(done.output).toEqual({ hasKey: true })
      const by = await servedBy(run.id)
      expect(by.warm).toBe(true)
      expect(pooledIds.has(by.sandbox)).toBe(true)
      // Never a second run: each run had a container no run had before.
      expect(served.has(by.sandbox)).toBe(false)
      served.add(by.sandbox)
      await until("the served container removed", async () =>
        (await gone(by.sandbox)) ? true : null,
      )
    }
    // Refilled with new containers only.
    const refilled = await poolOf(2)
    for (const c of refilled) expect(served.has(c.Id.slice(0, 12))).toBe(false)
    expect(h.runner.deps.metrics.warmTaken.get()).toBeGreaterThanOrEqual(4)
  }, 240_000)

  test("a warm first attempt's workspace is the session's for the retries", async () => {
    await poolOf(2)
    // `flaky` counts its attempts in the workspace and succeeds at the third.
    const run = await h.trigger({ deploymentId, taskId: "flaky", maxAttempts: 3 })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("succeeded")
    expect(done.output).toEqual({ attempts: 3 })
    const events = await runEvents(h.db.sql, run.id)
    const starts = events.filter(
      (e) => e.type === "transition" && (e.data as { to?: string }).to === "running",
    )
    expect(starts.map((e) => (e.data as { warm?: boolean }).warm === true)).toEqual([
      true,
      false,
      false,
    ])
  }, 180_000)

  test("a first attempt interrupted by a shutdown starts again cold (its workspace exists)", async () => {
    await poolOf(2)
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "x", delayMs: 20_000 },
    })
    await waitForRun(h.db.sql, run.id, ["running"], 60_000)
    // Past the harness's 1 s drain: interrupted, back to the queue without using an attempt.
    await h.stopLoop()
    h.restartLoop()
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(1)
    const starts = (await runEvents(h.db.sql, run.id)).filter(
      (e) => e.type === "transition" && (e.data as { to?: string }).to === "running",
    )
    expect(starts.map((e) => (e.data as { warm?: boolean }).warm === true)).toEqual([true, false])
  }, 120_000)

  test("the sandbox sweep leaves pooled containers and a warm run's container alone", async () => {
    const ready = await poolOf(2)
    const run = await h.trigger({ deploymentId, taskId: "sleeper" })
    await waitForRun(h.db.sql, run.id, ["running"], 60_000)
    const by = await servedBy(run.id)
    expect(by.warm).toBe(true)
    const records = await h.runner.deps.driver.listSandboxes()
    expect(records.find((r) => r.id.startsWith(by.sandbox))).toMatchObject({
      runId: run.id,
      attempt: 1,
      sessionId: run.sessionId,
      running: true,
    })
    expect(await sweepSandboxes(h.runner.deps)).toBe(0)
    for (const c of ready) {
      if (c.Id.startsWith(by.sandbox)) continue
      expect(await gone(c.Id)).toBe(false)
    }
    expect(await gone(by.sandbox)).toBe(false)
    await publishCancel(h.db.sql, h.vk.valkey, h.runner.deps.keys, run.id)
    await waitForRun(h.db.sql, run.id, ["canceled", "failed"], 60_000)
  }, 120_000)

  test("a restarted runner clears its previous pool; an unpinged warm runtime exits", async () => {
    const before = await poolOf(2)
    await h.stopLoop()
    // A stopping runner removes its pool.
    for (const c of before) expect(await gone(c.Id)).toBe(true)
    // What a dead process would leave: a warm container nobody pings, and one it may never see.
    const start = h.runner.deps.driver.startWarm
    if (!start) throw new Error("the docker driver keeps warm sandboxes")
    const [image] = await docker.listImages({
      filters: { label: [`helmr.test=${h.testLabel}`, "helmr.kind=sandbox-image"] },
    })
    const launch = {
      pool: `${deploymentId}/sb`,
      prepared: { ref: image?.RepoTags?.[0] ?? "", entry: "/helmr/app/index.js" },
      workspace: "/workspace",
      resources: { cpu: 0.5, memoryBytes: 128 << 20 },
      network: "bridge" as const,
    }
    const leftover = await start(launch, 600_000)
    const unpinged = await start(launch, 1_000)
    const exit = await Promise.race([unpinged.exited, Bun.sleep(20_000).then(() => null)])
    expect(exit?.exitCode).toBe(70)
    await unpinged.remove()
    h.restartLoop()
    await until("the leftover removed", async () => ((await gone(leftover.id)) ? true : null))
    const after = await poolOf(2)
    expect(after.map((c) => c.Id)).not.toContain(leftover.id)
    // Its volume went with it; only the new pool's remain.
    const { Volumes } = await docker.listVolumes({
      filters: { label: [`helmr.test=${h.testLabel}`, "helmr.kind=workspace-pool"] },
    })
    const inUse = new Set(
      after.flatMap((c) => c.Mounts.map((m) => m.Name).filter((n): n is string => !!n)),
    )
    const bound = (
      await docker.listVolumes({ filters: { label: ["helmr.pool-volume"] } })
    ).Volumes?.map((v) => v.Labels?.["helmr.pool-volume"])
    for (const v of Volumes ?? []) expect(inUse.has(v.Name) || bound?.includes(v.Name)).toBe(true)
  }, 180_000)

  test("pools of a deployment no longer current are drained", async () => {
    await poolOf(2)
    await h.deploy({ bundle: await basicBundle(), manifest: basicManifest(), current: true })
    await poolOf(0)
    expect(h.runner.deps.metrics.warm.get({ deployment: deploymentId, sandbox: "sb" })).toBe(0)
  }, 60_000)

  test("a waiting run in a warm container is adopted by the restarted runner", async () => {
    const manifest = waitsManifest()
    const waits = await h.deploy({
      bundle: await waitsBundle(),
      manifest: { ...manifest, sandboxes: manifest.sandboxes.map((sb) => ({ ...sb, warm: 1 })) },
      current: true,
    })
    const dispatcher = await startDispatcherProcess(h, { HELMR_TIMER_POLL_MS: "200" })
    try {
      await until("a warm waits sandbox", async () =>
        (h.runner.deps.warm?.sizes()[`${waits}/sb`] ?? 0) >= 1 ? true : null,
      )
      const run = await h.trigger({
        deploymentId: waits,
        taskId: "waiter",
        payload: { seconds: 3 },
      })
      await waitForRun(h.db.sql, run.id, ["waiting"], 60_000)
      const by = await servedBy(run.id)
      expect(by.warm).toBe(true)
      await h.stopLoop()
      // Parked: detached, not removed with the pool.
      expect(await gone(by.sandbox)).toBe(false)
      h.restartLoop()
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
      expect(done.status).toBe("succeeded")
      const events = await runEvents(h.db.sql, run.id)
      const said = (text: string) =>
        events.filter((e) => e.type === "log" && e.message?.includes(text)).length
      expect(said("side effect before the wait")).toBe(1)
      expect(said("re-attached to the sandbox")).toBe(1)
      expect(said("after the wait")).toBe(1)
    } finally {
      dispatcher.kill()
      await dispatcher.exited
    }
  }, 180_000)
})
