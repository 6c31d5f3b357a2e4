import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import type { Subprocess } from "bun"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { BASE_IMAGE, basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { type PrivateDockerd, startPrivateDockerd } from "../src/testing/private-dockerd.ts"

// Two runner hosts: runner processes on two Docker engines (the machine's, and a private second
// dockerd with its own socket and data root) share one queue. Runs spread over both; when one
// runner dies, its run is retried on the other.

let h: RunnerHarness
let second: PrivateDockerd
let deploymentId: string
const processes: Subprocess[] = []

function startRunner(runnerId: string, env: Record<string, string> = {}): Subprocess {
  const vars: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HELMR_RUNNER_PORT: "0",
    HELMR_MIGRATE_ON_START: "false",
    HELMR_LOG_LEVEL: process.env.HELMR_TEST_LOG ?? "warn",
    HELMR_RUNNER_ID: runnerId,
    HELMR_RUNNER_CONCURRENCY: "2",
    ...env,
  }
  for (const [key, value] of Object.entries(h.config)) {
    if (!(key in vars) && value !== undefined) vars[key] = String(value)
  }
  const proc = Bun.spawn(["bun", join(import.meta.dir, "../main.ts")], {
    env: vars,
    stdout: "inherit",
    stderr: "inherit",
  })
  processes.push(proc)
  return proc
}

beforeAll(async () => {
  h = await startRunnerHarness("twoengines")
  await h.stopLoop()
  second = await startPrivateDockerd(h.testLabel.replace(/[^a-z0-9]/g, ""), [BASE_IMAGE])
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
}, 180_000)

afterAll(async () => {
  for (const proc of processes) proc.kill("SIGKILL")
  await Promise.all(processes.map((p) => p.exited))
  await second?.stop({ wipe: true })
  await h?.stop()
}, 120_000)

describe("two runners on two Docker engines", () => {
  test("runs spread over both; a dead runner's run is retried on the other", async () => {
    const a = `${h.config.HELMR_RUNNER_ID}-a`
    const b = `${h.config.HELMR_RUNNER_ID}-b`
    startRunner(a)
    const runnerB = startRunner(b, { HELMR_DOCKER_SOCKET: second.socket })

    const runs = []
    for (let i = 0; i < 8; i++) {
      runs.push(
        await h.trigger({
          deploymentId,
          taskId: "hello",
          payload: { name: `spread-${i}`, delayMs: 1_500 },
        }),
      )
    }
    const done = await Promise.all(
      runs.map((r) => waitForRun(h.db.sql, r.id, ["succeeded", "failed", "crashed"], 240_000)),
    )
    // A run that did not succeed shows its error, to tell a slow machine from a bug.
    const outcome = (r: (typeof done)[number]) =>
      r.status === "succeeded" ? r.status : `${r.status}: ${JSON.stringify(r.error)}`
    expect(done.map(outcome)).toEqual(runs.map(() => "succeeded"))
    const byRunner = new Map<string, number>()
    for (const r of done) byRunner.set(r.runnerId ?? "", (byRunner.get(r.runnerId ?? "") ?? 0) + 1)
    expect([...byRunner.keys()].sort()).toEqual([a, b].sort())
    // Each sandbox ran on its runner's engine.
    const onSecond = await second.docker.listContainers({
      all: true,
      filters: { label: [`helmr.owner=${b}`] },
    })
    expect(onSecond.length).toBeLessThanOrEqual(2)

    // A long run taken by runner b; b dies; a retries it on the first engine.
    await Bun.sleep(500)
    const long = await h.trigger({
      deploymentId,
      taskId: "hello",
      payload: { name: "survivor", delayMs: 3_000 },
      maxAttempts: 2,
    })
    // Only b may take it: a is busy with two long runs.
    const blockers = []
    for (let i = 0; i < 2; i++) {
      blockers.push(
        await h.trigger({
          deploymentId,
          taskId: "hello",
          payload: { name: `blocker-${i}`, delayMs: 1_000 },
        }),
      )
    }
    const deadline = Date.now() + 120_000
    let taken = ""
    while (Date.now() < deadline) {
      const [row] = await h.db.sql<{ runnerId: string | null; status: string }[]>`
        select runner_id, status from runs where id = ${long.id}`
      if (row?.status === "running") {
        taken = row.runnerId ?? ""
        break
      }
      await Bun.sleep(50)
    }
    expect([a, b]).toContain(taken)
    if (taken === b) {
      runnerB.kill("SIGKILL")
      await runnerB.exited
    } else {
      // a took it: kill a and start nothing in its place; b must retry it.
      const runnerA = processes[0]
      runnerA?.kill("SIGKILL")
      await runnerA?.exited
    }
    const survivor = await waitForRun(
      h.db.sql,
      long.id,
      ["succeeded", "failed", "crashed"],
      120_000,
    )
    expect(survivor.status).toBe("succeeded")
    expect(survivor.attempt).toBe(2)
    expect(survivor.runnerId).not.toBe(taken)
    const events = await runEvents(h.db.sql, long.id)
    expect(events.some((e) => e.type === "transition" && e.data?.to === "queued")).toBe(true)
    for (const r of blockers) {
      const end = await waitForRun(h.db.sql, r.id, ["succeeded", "failed", "crashed"], 120_000)
      expect(["succeeded", "crashed"]).toContain(end.status)
    }
  }, 480_000)
})
