import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Subprocess } from "bun"
import type Docker from "dockerode"
import { readWorkspaceFile, runEvents, waitForRun } from "../src/testing/deployments.ts"
import { SIDE_EFFECT_FILE } from "../src/testing/fixtures/waits/index.ts"
import { waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startApiProcess, startDispatcherProcess } from "../src/testing/services.ts"

// Durable waits in real Docker sandboxes, observed through the public API: a timed wait parks the
// run (`waiting`, no runner slot) and resumes it once; tokens completed from outside or timed out.

let h: RunnerHarness
let api: { url: string; proc: Subprocess }
let dispatcher: Subprocess

async function call(method: string, path: string, body?: unknown, key = h.apiKey) {
  const res = await fetch(`${api.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function trigger(taskId: string, payload?: unknown): Promise<string> {
  const res = await call(
    "POST",
    `/tasks/${taskId}/trigger`,
    payload === undefined ? {} : { payload },
  )
  expect(res.status).toBe(201)
  return res.body.id as string
}

async function statusOf(runId: string): Promise<string> {
  return (await call("GET", `/runs/${runId}`)).body.status as string
}

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(50)
  }
  throw new Error("condition never held")
}

const count = (events: { type: string; message: string | null }[], type: string, text?: string) =>
  events.filter((e) => e.type === type && (text === undefined || e.message?.includes(text))).length

beforeAll(async () => {
  h = await startRunnerHarness("h10bwaits", { HELMR_RUNNER_CONCURRENCY: "1" })
  const deploymentId = await h.deploy({ bundle: await waitsBundle(), manifest: waitsManifest() })
  await h.db.sql`update environments set current_deployment_id = ${deploymentId}
    where id = ${h.environmentId}`
  api = await startApiProcess(h)
  dispatcher = await startDispatcherProcess(h, { HELMR_TIMER_POLL_MS: "200" })
}, 120_000)

afterAll(async () => {
  api?.proc.kill("SIGTERM")
  dispatcher?.kill("SIGTERM")
  await h?.stop()
}, 60_000)

describe("timers.wait", () => {
  test("a 5 s wait: waiting without a slot, resumed once, side effect once", async () => {
    const runId = await trigger("waiter", { seconds: 5 })
    await until(async () => (await statusOf(runId)) === "waiting")
    // Concurrency 1: another run starts and finishes while the first one waits.
    const quickId = await trigger("quick")
    await until(async () => (await statusOf(quickId)) === "succeeded", 60_000)
    expect(await statusOf(runId)).toBe("waiting")
    await until(async () => (await statusOf(runId)) === "succeeded")
    const run = (await call("GET", `/runs/${runId}`)).body
    expect((run.output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(4_900)
    expect(run.attempts ?? run.attempt).toBe(1)
    const events = await runEvents(h.db.sql, runId)
    expect(count(events, "log", "side effect before the wait")).toBe(1)
    // The same, counted outside the sandbox: the line the task appended to its workspace volume.
    const file = await readWorkspaceFile(
      h.runner.docker as Docker,
      run.sessionId as string,
      SIDE_EFFECT_FILE,
    )
    expect((file ?? "").split("\n").filter((line) => line.includes(runId))).toHaveLength(1)
    expect(count(events, "log", "after the wait")).toBe(1)
    expect(count(events, "started")).toBe(1)
    const moves = events
      .filter((e) => e.type === "transition")
      .map((e) => `${e.data?.from}>${e.data?.to}`)
    expect(moves).toEqual([
      "null>queued",
      "queued>starting",
      "starting>running",
      "running>waiting",
      "waiting>queued",
      "queued>running",
      "running>succeeded",
    ])
  }, 180_000)

  test("two waits at once are refused with ConcurrentWaitError", async () => {
    const runId = await trigger("parallel-waits")
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.output).toEqual({ refused: true, name: "ConcurrentWaitError" })
  }, 180_000)
})

describe("cancel", () => {
  test("canceling a waiting run ends it at once and stops its sandbox", async () => {
    const runId = await trigger("waiter", { seconds: 120 })
    await until(async () => (await statusOf(runId)) === "waiting")
    const canceled = await call("POST", `/runs/${runId}/cancel`, {})
    expect(canceled.status).toBe(200)
    expect(canceled.body.status).toBe("canceled")
    const docker = h.runner.docker
    if (!docker) throw new Error("docker driver expected")
    await until(
      async () =>
        (
          await docker.listContainers({
            all: true,
            filters: { label: [`helmr.test=${h.testLabel}`, `helmr.run=${runId}`] },
          })
        ).length === 0,
      60_000,
    )
    expect(await statusOf(runId)).toBe("canceled")
    const events = await runEvents(h.db.sql, runId)
    expect(count(events, "log", "after the wait")).toBe(0)
  }, 180_000)
})

describe("tokens", () => {
  test("created outside a run, completed by an external call while the task waits", async () => {
    const created = await call("POST", "/tokens", { timeout: "10m", tags: ["e2e"] })
    expect(created.status).toBe(201)
    const tokenId = created.body.id as string
    expect(created.body.url).toBe(`/api/v1/tokens/${tokenId}/complete`)
    const runId = await trigger("token-waiter", { tokenId })
    await until(async () => (await statusOf(runId)) === "waiting")
    const done = await call("POST", `/tokens/${tokenId}/complete`, { data: { approved: true } })
    expect(done.status).toBe(200)
    await until(async () => (await statusOf(runId)) === "succeeded")
    const run = (await call("GET", `/runs/${runId}`)).body
    expect(run.output).toEqual({ ok: true, id: tokenId, output: { approved: true } })
    const again = await call("POST", `/tokens/${tokenId}/complete`, { data: { approved: false } })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({
      error: { code: "conflict", details: { id: tokenId, data: { approved: true } } },
    })
  }, 180_000)

  test("a token created in the task times out: the wait returns ok false", async () => {
    const runId = await trigger("token-maker", { timeout: "2s" })
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("succeeded")
    const output = done.output as { token: { id: string }; result: { ok: boolean; error: unknown } }
    expect(output.result).toMatchObject({ ok: false, id: output.token.id })
    expect(output.result.error).toMatchObject({ name: "TokenTimeoutError" })
    const late = await call("POST", `/tokens/${output.token.id}/complete`, { data: 1 })
    expect(late.status).toBe(409)
  }, 180_000)

  test("unknown tokens and another environment's key get 404", async () => {
    const created = await call("POST", "/tokens", {})
    const tokenId = created.body.id as string
    const otherKey = h.environments.find((e) => e.id !== h.environmentId)?.apiKey ?? ""
    expect(otherKey).not.toBe("")
    const cross = await call("POST", `/tokens/${tokenId}/complete`, { data: 1 }, otherKey)
    expect(cross.status).toBe(404)
    const unknown = await call("POST", "/tokens/tok_0000000000aaaaaaaaaaaaaaaa/complete", {})
    expect(unknown.status).toBe(404)
    const bad = await call("POST", "/tokens", { timeout: "soon" })
    expect(bad.status).toBe(422)
    // A task waiting for another environment's token gets not_found, like the API.
    const staging = h.environments.find((e) => e.id !== h.environmentId)?.apiKey ?? ""
    const foreign = await call("POST", "/tokens", {}, staging)
    const runId = await trigger("token-waiter", { tokenId: foreign.body.id })
    const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("failed")
    expect(done.error).toMatchObject({ name: "RuntimeCallError" })
    expect((done.error as { message: string }).message).toContain("not found")
    // Nothing was completed by the refused calls.
    expect((await call("POST", `/tokens/${tokenId}/complete`, { data: 2 })).status).toBe(200)
  }, 120_000)
})

describe("the runtime client", () => {
  test("a task creates a schedule and waits for a child: its environment only, the child's output", async () => {
    const runId = await trigger("parent", { n: 21, cron: "15 4 * * *" })
    await until(async () => (await statusOf(runId)) === "succeeded")
    const run = (await call("GET", `/runs/${runId}`)).body
    const output = run.output as Record<string, unknown>
    expect(output.child).toMatchObject({ ok: true, status: "succeeded", output: { doubled: 42 } })
    const childId = (output.child as { id: string }).id
    const child = (await call("GET", `/runs/${childId}`)).body
    expect(child).toMatchObject({ status: "succeeded", taskId: "child", payload: { n: 21 } })
    // The schedule exists in the run's environment, and only there.
    const mine = await call("GET", "/schedules/made-by-a-task")
    expect(mine.status).toBe(200)
    expect(mine.body).toMatchObject({
      id: output.scheduleId,
      task: "nightly",
      cron: "15 4 * * *",
      externalId: "from-parent",
      kind: "imperative",
      active: true,
    })
    for (const other of h.environments.filter((e) => e.id !== h.environmentId)) {
      const theirs = await call("GET", "/schedules/made-by-a-task", undefined, other.apiKey)
      expect(theirs.status).toBe(404)
    }
    // Refusals carry the API's codes and fields.
    expect(output.unknownTask).toMatchObject({ name: "RuntimeCallError", code: "not_found" })
    expect(output.badPayload).toMatchObject({ code: "validation_failed" })
    expect(JSON.stringify((output.badPayload as { details: unknown }).details)).toContain(
      "payload.n",
    )
    expect(output.badCron).toMatchObject({ code: "validation_failed" })
    // The parent waited for its child (no slot held: concurrency is 1 and the child ran).
    const moves = (await runEvents(h.db.sql, runId))
      .filter((e) => e.type === "transition")
      .map((e) => `${e.data?.from}>${e.data?.to}`)
    expect(moves).toContain("running>waiting")
    expect(moves).toContain("waiting>queued")
  }, 180_000)
})
