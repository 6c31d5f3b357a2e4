import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { publishCancel } from "../src/testing/cancel.ts"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startApiProcess } from "../src/testing/services.ts"

// The run lifecycle with the `local` driver (child processes): fast, no Docker needed.

let h: RunnerHarness
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("i6local", { HELMR_SANDBOX_DRIVER: "local" })
  deploymentId = await h.deploy({
    bundle: await basicBundle(),
    manifest: basicManifest({ maxDuration: { stubborn: 1 } }),
  })
}, 60_000)
afterAll(() => h?.stop(), 60_000)

describe("local driver lifecycle", () => {
  test("runs the task: output, ctx, logs (console and raw output), transitions", async () => {
    const run = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "ada" } })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"])
    expect(done.error).toBeNull()
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(1)
    const output = done.output as { greeting: string; ctx: Record<string, unknown>; cwd: string }
    expect(output.greeting).toBe("hello ada")
    expect(output.ctx).toEqual({
      run: { id: run.id },
      task: { id: "hello" },
      workspace: output.cwd,
      session: { id: run.sessionId },
    })
    const events = await runEvents(h.db.sql, run.id)
    const logs = events.filter((e) => e.type === "log").map((e) => [e.level, e.message])
    expect(logs).toContainEqual(["info", "hello from the task ada"])
    expect(logs).toContainEqual(["warn", "a warning { n: 1 }"])
    expect(logs).toContainEqual(["info", "raw stdout line"])
    expect(logs).toContainEqual(["error", "raw stderr line"])
    const transitions = events.filter((e) => e.type === "transition").map((e) => e.data?.to)
    expect(transitions).toEqual(["queued", "starting", "running", "succeeded"])
    expect(events.some((e) => e.type === "started")).toBe(true)
  }, 60_000)

  test("the payload is validated again in the sandbox; a bad one fails without retry", async () => {
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: 42 },
      maxAttempts: 3,
    })
    const done = await waitForRun(h.db.sql, run.id, ["failed", "succeeded"])
    expect(done.status).toBe("failed")
    expect(done.attempt).toBe(1)
    expect(done.error).toMatchObject({ name: "PayloadValidationError", retryable: false })
  }, 60_000)

  test("a thrown error is serialised with name, message and stack", async () => {
    const run = await h.trigger({ deploymentId, taskId: "fails" })
    const done = await waitForRun(h.db.sql, run.id, ["failed", "succeeded"])
    const error = done.error as { name: string; message: string; stack: string }
    expect(error.name).toBe("TypeError")
    expect(error.message).toBe("this task always fails")
    expect(error.stack).toContain("this task always fails")
  }, 60_000)

  test("retries with backoff up to maxAttempts, in the same workspace", async () => {
    const run = await h.trigger({ deploymentId, taskId: "flaky", maxAttempts: 3 })
    const done = await waitForRun(h.db.sql, run.id, ["failed", "succeeded"])
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(3)
    expect(done.output).toEqual({ attempts: 3 })
    const events = await runEvents(h.db.sql, run.id)
    const retries = events.filter((e) => e.type === "transition" && e.data?.reason === "retry")
    expect(retries).toHaveLength(2)
    expect(retries[0]?.data?.error).toEqual({ name: "Error", message: "attempt 1 fails" })
  }, 60_000)

  test("a task without payload refuses one", async () => {
    const run = await h.trigger({ deploymentId, taskId: "fails", payload: { x: 1 } })
    const done = await waitForRun(h.db.sql, run.id, ["failed"])
    expect(done.error).toMatchObject({ name: "PayloadValidationError" })
  }, 60_000)

  test("an unknown export, a process exit, a missing secret", async () => {
    const ghost = await h.trigger({ deploymentId, taskId: "ghost", maxAttempts: 3 })
    const missingExport = await waitForRun(h.db.sql, ghost.id, ["failed", "succeeded", "crashed"])
    expect(missingExport.status).toBe("failed")
    expect(missingExport.attempt).toBe(1)
    expect(missingExport.error).toMatchObject({ name: "TaskNotFoundError", retryable: false })

    const exits = await h.trigger({ deploymentId, taskId: "exits" })
    const exited = await waitForRun(h.db.sql, exits.id, ["crashed", "failed", "succeeded"])
    expect(exited.status).toBe("crashed")
    expect(exited.error).toMatchObject({ name: "SandboxExitError" })

    const secretive = await h.trigger({ deploymentId, taskId: "secretive" })
    const missing = await waitForRun(h.db.sql, secretive.id, ["failed", "succeeded"])
    expect(missing.status).toBe("failed")
    expect(missing.error).toMatchObject({ name: "MissingSecretError" })
    expect((missing.error as { message: string }).message).toContain("OPENAI_API_KEY")

    await h.setSecret("OPENAI_API_KEY", "sk-test-123")
    const again = await h.trigger({ deploymentId, taskId: "secretive" })
    const ok = await waitForRun(h.db.sql, again.id, ["failed", "succeeded"])
    expect(ok.output).toEqual({ hasKey: true })
  }, 60_000)

  test("cancel aborts ctx.signal and ends the run as canceled", async () => {
    const run = await h.trigger({ deploymentId, taskId: "sleeper" })
    await waitForRun(h.db.sql, run.id, ["running"])
    await waitForEvent(h, run.id, (e) => e.message === "sleeping")
    await publishCancel(h.db.sql, h.vk.valkey, h.runner.deps.keys, run.id)
    const done = await waitForRun(h.db.sql, run.id, ["canceled", "failed", "succeeded"])
    expect(done.status).toBe("canceled")
    expect(done.error).toMatchObject({ name: "AbortError" })
  }, 60_000)

  test("cancel through the real API (POST /runs/{id}/cancel) ends a running run as canceled", async () => {
    const api = await startApiProcess(h)
    try {
      await h.db.sql`update environments set current_deployment_id = ${deploymentId}
        where id = ${h.environmentId}`
      const headers = { authorization: `Bearer ${h.apiKey}`, "content-type": "application/json" }
      const res = await fetch(`${api.url}/api/v1/tasks/sleeper/trigger`, {
        method: "POST",
        headers,
        body: "{}",
      })
      expect(res.status).toBe(201)
      const { id } = (await res.json()) as { id: string }
      await waitForRun(h.db.sql, id, ["running"])
      await waitForEvent(h, id, (e) => e.message === "sleeping")
      const cancel = await fetch(`${api.url}/api/v1/runs/${id}/cancel`, {
        method: "POST",
        headers,
        body: "{}",
      })
      expect(cancel.status).toBe(200)
      const done = await waitForRun(h.db.sql, id, ["canceled", "failed", "succeeded"])
      expect(done.status).toBe("canceled")
      const types = (await runEvents(h.db.sql, id)).map((e) => e.type)
      expect(types.indexOf("cancel_requested")).toBeGreaterThan(types.indexOf("started"))
    } finally {
      api.proc.kill("SIGTERM")
      await api.proc.exited
    }
  }, 60_000)

  test("a run whose ttl passed before it started expires instead of running", async () => {
    const run = await h.trigger({
      deploymentId,
      taskId: "fails",
      expiresAt: new Date(Date.now() - 1_000),
    })
    const done = await waitForRun(h.db.sql, run.id, ["expired", "failed"])
    expect(done.status).toBe("expired")
    expect(done.attempt).toBe(0)
  }, 60_000)

  test("a runner shutdown interrupts a run past the drain time; it is re-run without using an attempt", async () => {
    const run = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "drain", delayMs: 4_000 },
    })
    await waitForRun(h.db.sql, run.id, ["running"])
    await waitForEvent(h, run.id, (e) => e.message === "hello from the task drain")
    await h.stopLoop()
    const requeued = await waitForRun(h.db.sql, run.id, ["queued"])
    expect(requeued.attempt).toBe(0)
    h.restartLoop()
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"])
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(1)
    const reasons = (await runEvents(h.db.sql, run.id)).map((e) => e.data?.reason).filter(Boolean)
    expect(reasons).toContain("runner shutdown")
  }, 60_000)

  test("maxDuration aborts, then kills a task that ignores the signal", async () => {
    const run = await h.trigger({ deploymentId, taskId: "stubborn" })
    const done = await waitForRun(
      h.db.sql,
      run.id,
      ["timed_out", "failed", "succeeded", "crashed"],
      30_000,
    )
    expect(done.status).toBe("timed_out")
    expect(done.error).toEqual({ name: "TimeoutError", message: "maxDuration of 1s reached" })
  }, 60_000)
})

async function waitForEvent(
  harness: RunnerHarness,
  runId: string,
  match: (e: { type: string; message: string | null }) => boolean,
): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if ((await runEvents(harness.db.sql, runId)).some(match)) return
    await Bun.sleep(50)
  }
  throw new Error("event never came")
}
