import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import type { Subprocess } from "bun"
import type Docker from "dockerode"
import {
  type EventRow,
  readWorkspaceFile,
  runEvents,
  waitForRun,
} from "../src/testing/deployments.ts"
import { SIDE_EFFECT_FILE } from "../src/testing/fixtures/waits/index.ts"
import { waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startApiProcess, startDispatcherProcess } from "../src/testing/services.ts"

// A waiting run survives its runner: kill -9 of the runner process, a new process with the same
// id re-attaches to the living sandbox and the task carries on (code before the wait not run
// again). A sandbox lost while waiting: the run is retried and completed waits return at once.

let h: RunnerHarness
let docker: Docker
let api: { url: string; proc: Subprocess }
let dispatcher: Subprocess
const processes: Subprocess[] = []

function startRunner(runnerId: string): Subprocess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HELMR_RUNNER_PORT: "0",
    HELMR_MIGRATE_ON_START: "false",
    HELMR_LOG_LEVEL: process.env.HELMR_TEST_LOG ?? "warn",
    HELMR_RUNNER_ID: runnerId,
    HELMR_RUNNER_CONCURRENCY: "1",
  }
  for (const [key, value] of Object.entries(h.config)) {
    if (!(key in env)) env[key] = String(value)
  }
  const proc = Bun.spawn(["bun", join(import.meta.dir, "../main.ts")], {
    env,
    stdout: "inherit",
    stderr: "inherit",
  })
  processes.push(proc)
  return proc
}

async function trigger(taskId: string, payload: unknown, maxAttempts = 1): Promise<string> {
  const res = await fetch(`${api.url}/api/v1/tasks/${taskId}/trigger`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      ...(payload === undefined ? {} : { payload }),
      options: { maxAttempts },
    }),
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}

async function containersOf(runId: string) {
  return docker.listContainers({
    all: true,
    filters: { label: [`helmr.test=${h.testLabel}`, `helmr.run=${runId}`] },
  })
}

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(50)
  }
  throw new Error("condition never held")
}

/** Waits until the run is `waiting`; a run that ended instead fails at once, with its error. */
async function untilWaiting(runId: string): Promise<void> {
  const [run] = await h.db.sql<{ status: string }[]>`select status from runs where id = ${runId}`
  if (run?.status === "waiting") return
  const reached = await waitForRun(
    h.db.sql,
    runId,
    ["waiting", "succeeded", "failed", "crashed", "canceled", "timed_out", "expired"],
    120_000,
  )
  if (reached.status !== "waiting") {
    throw new Error(`run ${runId} ended ${reached.status}: ${JSON.stringify(reached.error)}`)
  }
}

/** How many times the task ran its code before the wait, counted outside the sandbox. */
async function sideEffects(runId: string): Promise<number> {
  const [run] = await h.db.sql<{ sessionId: string }[]>`
    select session_id from runs where id = ${runId}`
  const text = await readWorkspaceFile(docker, run?.sessionId ?? "", SIDE_EFFECT_FILE)
  return (text ?? "").split("\n").filter((line) => line.includes(runId)).length
}

const logs = (events: EventRow[], text: string) =>
  events.filter((e) => e.type === "log" && e.message?.includes(text))
const moves = (events: EventRow[]) =>
  events.filter((e) => e.type === "transition").map((e) => `${e.data?.from}>${e.data?.to}`)

beforeAll(async () => {
  h = await startRunnerHarness("h10brestart")
  await h.stopLoop()
  docker = h.runner.docker as Docker
  const deploymentId = await h.deploy({ bundle: await waitsBundle(), manifest: waitsManifest() })
  await h.db.sql`update environments set current_deployment_id = ${deploymentId}
    where id = ${h.environmentId}`
  api = await startApiProcess(h)
  dispatcher = await startDispatcherProcess(h, { HELMR_TIMER_POLL_MS: "200" })
}, 120_000)

afterAll(async () => {
  for (const proc of processes) proc.kill("SIGKILL")
  await Promise.all(processes.map((p) => p.exited))
  api?.proc.kill("SIGTERM")
  dispatcher?.kill("SIGTERM")
  await h?.stop()
}, 60_000)

describe("a waiting run and its runner", () => {
  test("kill -9 of the runner during the wait: a new process adopts the sandbox; once", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-a`
    const runId = await trigger("waiter", { seconds: 6 })
    const first = startRunner(runnerId)
    await untilWaiting(runId)
    first.kill("SIGKILL")
    await first.exited
    // The sandbox lives on without its runner.
    const alive = await containersOf(runId)
    expect(alive.map((c) => c.State)).toEqual(["running"])

    const second = startRunner(runnerId)
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(1)
    expect((done.output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(5_900)
    const events = await runEvents(h.db.sql, runId)
    expect(logs(events, "side effect before the wait")).toHaveLength(1)
    expect(await sideEffects(runId)).toBe(1)
    expect(logs(events, "after the wait")).toHaveLength(1)
    expect(logs(events, "re-attached to the sandbox")).toHaveLength(1)
    expect(events.filter((e) => e.type === "started")).toHaveLength(1)
    expect(moves(events)).toEqual([
      "null>queued",
      "queued>starting",
      "starting>running",
      "running>waiting",
      "waiting>queued",
      "queued>running",
      "running>succeeded",
    ])
    await until(async () => (await containersOf(runId)).length === 0, 30_000)
    second.kill("SIGTERM")
    expect(await second.exited).toBe(0)
  }, 240_000)

  test("SIGTERM while a run waits: the sandbox is left for the next process", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-b`
    const runId = await trigger("waiter", { seconds: 5 })
    const first = startRunner(runnerId)
    await untilWaiting(runId)
    first.kill("SIGTERM")
    expect(await first.exited).toBe(0)
    expect((await containersOf(runId)).map((c) => c.State)).toEqual(["running"])
    const second = startRunner(runnerId)
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(1)
    expect(logs(await runEvents(h.db.sql, runId), "side effect before the wait")).toHaveLength(1)
    expect(await sideEffects(runId)).toBe(1)
    second.kill("SIGTERM")
    expect(await second.exited).toBe(0)
  }, 240_000)

  test("the sandbox lost during a wait: retried, the completed wait returns at once", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-c`
    const runId = await trigger("two-waits", { seconds: 6 }, 2)
    const runner = startRunner(runnerId)
    const secondWait = async () =>
      (await runEvents(h.db.sql, runId)).filter((e) => e.data?.to === "waiting").length === 2
    await until(secondWait)
    const [box] = await containersOf(runId)
    await docker.getContainer(box?.Id ?? "").kill()
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    if (done.status !== "succeeded") console.log(done.error, await runEvents(h.db.sql, runId))
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(2)
    const events = await runEvents(h.db.sql, runId)
    // Attempt 2 ran the code again from the start (no checkpoints) but did not wait again for
    // the first timer: its only wait is the second one, under the same key.
    expect(logs(events, "step A")).toHaveLength(2)
    const second = events.filter((e) => e.data?.attempt === 2 && e.data?.to === "waiting")
    expect(second).toHaveLength(1)
    const waitpoints = await h.db.sql`select id from waitpoints where run_id = ${runId}`
    expect(waitpoints).toHaveLength(2)
    await until(async () => (await containersOf(runId)).length === 0, 30_000)
    runner.kill("SIGTERM")
    expect(await runner.exited).toBe(0)
  }, 240_000)

  test("a running (not waiting) task whose runner died and never came back stops by itself", async () => {
    const runnerId = `${h.config.HELMR_RUNNER_ID}-d`
    const runId = await trigger("busy", undefined)
    const runner = startRunner(runnerId)
    await until(async () =>
      (await runEvents(h.db.sql, runId)).some((e) => e.type === "started"),
    ).catch(async (error: unknown) => {
      // Say where it stood, to tell a slow machine from a stuck runner.
      const [row] = await h.db.sql`select status, runner_id, attempt from runs where id = ${runId}`
      const queue = await h.vk.valkey.zrange(h.runner.deps.keys.runQueue, 0, -1, "WITHSCORES")
      console.log({ row, queue, now: Date.now(), events: await runEvents(h.db.sql, runId) })
      throw error
    })
    runner.kill("SIGKILL")
    await runner.exited
    // No pings any more: the runtime gives up (orphanAfterMs) instead of running on unattended.
    await until(async () => {
      const [box] = await containersOf(runId)
      return box?.State === "exited"
    }, 90_000)
    const [box] = await containersOf(runId)
    const info = await docker.getContainer(box?.Id ?? "").inspect()
    expect(info.State.ExitCode).toBe(70)
    // The next process of that runner id cleans it up and retries or crashes the run.
    const again = startRunner(runnerId)
    await until(async () => (await containersOf(runId)).length === 0, 60_000)
    const done = await waitForRun(h.db.sql, runId, ["crashed"], 60_000)
    expect(done.error).toMatchObject({ name: "RunnerLostError" })
    again.kill("SIGTERM")
    expect(await again.exited).toBe(0)
  }, 240_000)
})
