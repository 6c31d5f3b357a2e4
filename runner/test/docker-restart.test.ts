import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Subprocess } from "bun"
import type Docker from "dockerode"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startRunnerProcess } from "../src/testing/services.ts"

// kill -9 of a runner process (runner/main.ts) in the middle of a run: the run is retried or
// marked crashed, never left running, and no container survives the runner's restart.

let h: RunnerHarness
let docker: Docker
let deploymentId: string
const processes: Subprocess[] = []

function startRunner(runnerId: string): Subprocess {
  const proc = startRunnerProcess(h, runnerId)
  processes.push(proc)
  return proc
}

async function containersOf(runId: string) {
  return docker.listContainers({
    all: true,
    filters: { label: [`helmr.test=${h.testLabel}`, `helmr.run=${runId}`] },
  })
}

async function waitForStarted(runId: string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if ((await runEvents(h.db.sql, runId)).some((e) => e.type === "started")) return
    await Bun.sleep(100)
  }
  throw new Error("the task never started")
}

beforeAll(async () => {
  h = await startRunnerHarness("i6restart")
  // The in-process loop is not wanted here: runner processes do the work.
  await h.stopLoop()
  docker = h.runner.docker as Docker
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
}, 60_000)

afterAll(async () => {
  for (const proc of processes) proc.kill("SIGKILL")
  await Promise.all(processes.map((p) => p.exited))
  await h?.stop()
}, 60_000)

describe("runner killed with SIGKILL mid-run", () => {
  test("restarted with the same id: orphan removed, run retried and finished", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-a`
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "restart", delayMs: 4_000 },
      maxAttempts: 2,
    })
    const first = startRunner(runnerId)
    await waitForStarted(run.id)
    expect(await containersOf(run.id)).toHaveLength(1)
    first.kill("SIGKILL")
    await first.exited

    const second = startRunner(runnerId)
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(2)
    const retry = (await runEvents(h.db.sql, run.id)).find(
      (e) => e.type === "transition" && e.data?.cause === "runner restarted",
    )
    expect(retry?.data).toMatchObject({ from: "running", to: "queued", attempt: 1 })
    // Attempt 1's container went at restart, attempt 2's when it finished.
    await waitFor(async () => (await containersOf(run.id)).length === 0)
    second.kill("SIGTERM")
    expect(await second.exited).toBe(0)
  }, 180_000)

  test("another runner marks it crashed once the lease lapsed; the restart cleans the container", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-b`
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "crash", delayMs: 60_000 },
      maxAttempts: 1,
    })
    const first = startRunner(runnerId)
    await waitForStarted(run.id)
    first.kill("SIGKILL")
    await first.exited

    const other = startRunner(`${h.config.HELMR_RUNNER_ID}-c`)
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
    expect(done.status).toBe("crashed")
    expect(done.error).toMatchObject({ name: "RunnerLostError" })
    // The dead runner's sandbox stopped by itself (its stdin closed) and is gone once it restarts.
    const restarted = startRunner(runnerId)
    await waitFor(async () => (await containersOf(run.id)).length === 0)
    for (const proc of [other, restarted]) proc.kill("SIGTERM")
    expect(await other.exited).toBe(0)
    expect(await restarted.exited).toBe(0)
  }, 180_000)
})

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(100)
  }
  throw new Error("condition never held")
}
