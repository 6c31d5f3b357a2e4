import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { RunRow } from "@helmr/migrations/rows"
import { createClient, type HelmrClient } from "@helmr/sdk"
import type { Subprocess } from "bun"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { flowBundle, flowManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { freePort, startApiProcess, startRunnerProcess } from "../src/testing/services.ts"

// Flow control with real processes: the API (triggers, batches, resolution of the task's queue
// and retry), two runner processes (runner/main.ts, local driver) sharing one queue, Postgres and
// Valkey. Concurrency limits must hold across both runners; retries follow the task's policy.
// Both runners share one HELMR_RUNNER_ROOT, as Docker volumes are shared by a host's runners, so
// a retry on the other runner finds the session's workspace.

let h: RunnerHarness
let api: { url: string; proc: Subprocess }
let client: HelmrClient
const runners: Subprocess[] = []

function startRunner(runnerId: string): Subprocess {
  // Two slots each, under a limit of three: reaching three at once takes both runners, and
  // together they could run four, so the limit is what holds them to three.
  const proc = startRunnerProcess(h, runnerId, {
    HELMR_RUNNER_PORT: String(freePort()),
    HELMR_RUNNER_CONCURRENCY: "2",
  })
  runners.push(proc)
  return proc
}

beforeAll(async () => {
  h = await startRunnerHarness("i11flow", { HELMR_SANDBOX_DRIVER: "local" })
  // The in-process loop is not wanted: two runner processes do the work.
  await h.stopLoop()
  const deploymentId = await h.deploy({ bundle: await flowBundle(), manifest: flowManifest() })
  await h.db.sql`update environments set current_deployment_id = ${deploymentId}
    where id = ${h.environmentId}`
  api = await startApiProcess(h)
  client = createClient({ apiUrl: api.url, apiKey: h.apiKey })
  startRunner(`${h.config.HELMR_RUNNER_ID}-a`)
  startRunner(`${h.config.HELMR_RUNNER_ID}-b`)
}, 60_000)

afterAll(async () => {
  for (const proc of [...runners, api?.proc]) proc?.kill("SIGTERM")
  await Promise.all([...runners, api?.proc].map((p) => p?.exited))
  await h?.stop()
}, 60_000)

interface Sample {
  key: string | null
  active: number
}

/** Samples how many runs of `taskId` are starting or running, per concurrency key, until all end. */
async function sampleUntilDone(taskId: string, total: number): Promise<Sample[][]> {
  const samples: Sample[][] = []
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const rows = await h.db.sql<Sample[]>`
      select concurrency_key as key, count(*)::int as active from runs
      where task_id = ${taskId} and status in ('starting', 'running')
      group by concurrency_key`
    samples.push(rows)
    const [done] = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from runs
      where task_id = ${taskId} and status not in ('queued', 'starting', 'running', 'waiting')`
    if ((done?.n ?? 0) >= total) return samples
    await Bun.sleep(10)
  }
  throw new Error(`the runs of ${taskId} did not all finish`)
}

describe("concurrency limits across two runner processes", () => {
  test("limit 3, 20 runs: never more than 3 starting or running, all 20 succeed", async () => {
    const { runs } = await client.tasks.batchTrigger(
      "slow",
      Array.from({ length: 20 }, () => ({ payload: { ms: 300 } })),
    )
    expect(runs).toHaveLength(20)
    const samples = await sampleUntilDone("slow", 20)
    const totals = samples.map((s) => s.reduce((sum, row) => sum + row.active, 0))
    expect(Math.max(...totals)).toBe(3)
    const finished = await h.db.sql<RunRow[]>`select * from runs where task_id = 'slow'`
    expect(finished.map((r) => r.status)).toEqual(Array(20).fill("succeeded"))
    expect(finished.every((r) => r.attempt === 1)).toBe(true)
    // Three at once is more than one runner's slots: the limit held across both runners.
    expect(new Set(finished.map((r) => r.runnerId)).size).toBe(2)
  }, 120_000)

  test("concurrencyKey: a limit of 1 per key, the keys independent of each other", async () => {
    const keys = ["org_a", "org_b", "org_c"]
    await client.tasks.batchTrigger(
      "tenant-job",
      Array.from({ length: 12 }, (_, i) => ({
        payload: { ms: 400 },
        options: { concurrencyKey: keys[i % 3] as string },
      })),
    )
    const samples = await sampleUntilDone("tenant-job", 12)
    const perKey = samples.flat().map((row) => row.active)
    expect(Math.max(...perKey)).toBe(1)
    // Independent: runs of different keys did run at the same time.
    const totals = samples.map((s) => s.reduce((sum, row) => sum + row.active, 0))
    expect(Math.max(...totals)).toBeGreaterThanOrEqual(2)
    const finished = await h.db.sql<RunRow[]>`select * from runs where task_id = 'tenant-job'`
    expect(finished.map((r) => r.status)).toEqual(Array(12).fill("succeeded"))
  }, 120_000)
})

describe("retries declared on the task", () => {
  test("retry { maxAttempts: 3 }: fails twice, succeeds on attempt 3, delays in its events", async () => {
    const { id } = await client.runs.trigger("flaky")
    const done = await waitForRun(h.db.sql, id, ["succeeded", "failed", "crashed"])
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(3)
    expect(done.output).toEqual({ attempts: 3 })
    const events = await runEvents(h.db.sql, id)
    const retries = events.filter((e) => e.type === "transition" && e.data?.reason === "retry")
    expect(retries.map((e) => e.data?.attempt)).toEqual([1, 2])
    // minDelay 200ms, factor 2, ±20 %: ~200 ms, then ~400 ms.
    const delays = retries.map((e) => Number(e.data?.retryInMs))
    expect(delays[0]).toBeGreaterThanOrEqual(160)
    expect(delays[0]).toBeLessThanOrEqual(240)
    expect(delays[1]).toBeGreaterThanOrEqual(320)
    expect(delays[1]).toBeLessThanOrEqual(480)
    const logs = events.filter((e) => e.type === "log" && e.message?.includes("retrying in"))
    expect(logs).toHaveLength(2)
  }, 60_000)

  test("NonRetriableError and AbortTaskRunError end the run failed on attempt 1", async () => {
    for (const [taskId, name, message] of [
      ["refuses", "NonRetriableError", "the reply failed validation"],
      ["aborts", "AbortTaskRunError", "the account does not exist"],
    ] as const) {
      const { id } = await client.runs.trigger(taskId)
      const done = await waitForRun(h.db.sql, id, ["succeeded", "failed", "crashed"])
      expect(done.status).toBe("failed")
      expect(done.attempt).toBe(1)
      expect(done.maxAttempts).toBe(3)
      expect(done.error).toMatchObject({ name, message, retryable: false })
      const events = await runEvents(h.db.sql, id)
      expect(events.some((e) => e.data?.reason === "retry")).toBe(false)
    }
  }, 60_000)
})
