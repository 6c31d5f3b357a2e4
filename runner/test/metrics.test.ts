import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { serveRunnerHealth } from "../src/health.ts"
import { publishCancel } from "../src/testing/cancel.ts"
import { waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest, waitsBundle, waitsManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// `GET /metrics` on the runner's port, over real runs (local driver: child-process sandboxes).

let h: RunnerHarness
let server: ReturnType<typeof serveRunnerHealth>
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("h12b-metrics", { HELMR_SANDBOX_DRIVER: "local" })
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
  server = serveRunnerHealth({
    port: 0,
    sql: h.db.sql,
    valkey: h.vk.valkey,
    runner: h.runner,
    loop: () => h.loop,
  })
}, 60_000)
afterAll(async () => {
  await server?.stop(true)
  await h?.stop()
}, 60_000)

async function scrape(): Promise<string> {
  const res = await fetch(new URL("/metrics", server.url))
  expect(res.status).toBe(200)
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4")
  return res.text()
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Scrapes until `ok` holds: the attempt's cleanup ends a moment after the run's final status. */
async function scrapeUntil(ok: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const text = await scrape()
    if (ok(text) || Date.now() > deadline) return text
    await Bun.sleep(50)
  }
}

describe("runner /metrics", () => {
  test("families are there before any run, at zero", async () => {
    const text = await scrape()
    for (const [name, type] of [
      ["helmr_runner_runs", "gauge"],
      ["helmr_runner_runs_finished_total", "counter"],
      ["helmr_runner_build_duration_seconds", "histogram"],
      ["helmr_runner_start_duration_seconds", "histogram"],
      ["helmr_runner_sandboxes_alive", "gauge"],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`)
    }
    for (const state of ["starting", "running", "waiting"])
      expect(sample(text, `helmr_runner_runs{state="${state}"}`)).toBe(0)
    expect(sample(text, "helmr_runner_sandboxes_alive")).toBe(0)
    expect((await fetch(new URL("/metrics", server.url), { method: "POST" })).status).toBe(405)
  })

  test("a finished run and a running one show up by state, outcome and duration", async () => {
    const hello = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "ada" } })
    expect((await waitForRun(h.db.sql, hello.id, ["succeeded", "failed", "crashed"])).status).toBe(
      "succeeded",
    )
    const sleeper = await h.trigger({ deploymentId, taskId: "sleeper" })
    await waitForRun(h.db.sql, sleeper.id, ["running"])
    const during = await scrapeUntil(
      (t) => sample(t, 'helmr_runner_runs_finished_total{status="succeeded"}') === 1,
    )
    expect(sample(during, 'helmr_runner_runs{state="running"}')).toBe(1)
    expect(sample(during, 'helmr_runner_runs{state="starting"}')).toBe(0)
    expect(sample(during, "helmr_runner_sandboxes_alive")).toBe(1)

    await publishCancel(h.db.sql, h.vk.valkey, h.runner.deps.keys, sleeper.id)
    expect((await waitForRun(h.db.sql, sleeper.id, ["canceled", "failed"])).status).toBe("canceled")
    const after = await scrapeUntil((t) => sample(t, "helmr_runner_sandboxes_alive") === 0)
    expect(sample(after, 'helmr_runner_runs{state="running"}')).toBe(0)
    expect(sample(after, "helmr_runner_sandboxes_alive")).toBe(0)
    expect(sample(after, 'helmr_runner_runs_finished_total{status="succeeded"}')).toBe(1)
    expect(sample(after, 'helmr_runner_runs_finished_total{status="canceled"}')).toBe(1)
    expect(sample(after, "helmr_runner_build_duration_seconds_count")).toBe(2)
    expect(sample(after, 'helmr_runner_build_duration_seconds_bucket{le="+Inf"}')).toBe(2)
    expect(sample(after, "helmr_runner_start_duration_seconds_count")).toBe(2)
    const startSum = sample(after, "helmr_runner_start_duration_seconds_sum") ?? 0
    expect(startSum).toBeGreaterThan(0)
    expect(startSum).toBeLessThan(120)
  }, 90_000)

  test("a run parked in a wait counts as waiting, its sandbox alive", async () => {
    const waits = await h.deploy({ bundle: await waitsBundle(), manifest: waitsManifest() })
    const run = await h.trigger({
      deploymentId: waits,
      taskId: "waiter",
      payload: { seconds: 600 },
    })
    await waitForRun(h.db.sql, run.id, ["waiting"], 60_000)
    const text = await scrapeUntil((t) => sample(t, "helmr_runner_sandboxes_alive") === 1)
    expect(sample(text, 'helmr_runner_runs{state="waiting"}')).toBe(1)
    expect(sample(text, 'helmr_runner_runs{state="running"}')).toBe(0)
    expect(sample(text, "helmr_runner_sandboxes_alive")).toBe(1)
  }, 90_000)
})
