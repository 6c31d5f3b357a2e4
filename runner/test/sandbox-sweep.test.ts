import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { walkRun } from "@helmr/migrations/testing"
import type Docker from "dockerode"
import { sweepSandboxes } from "../src/run/sandbox-sweep.ts"
import { waitForRun } from "../src/testing/deployments.ts"
import { BASE_IMAGE, basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// A sandbox whose removal failed when its attempt ended (the engine was restarting, say) is
// removed by the runner's sweep; a live attempt's sandbox is not.

let h: RunnerHarness
let docker: Docker
beforeAll(async () => {
  h = await startRunnerHarness("sbsweep")
  await h.stopLoop()
  docker = h.runner.docker as Docker
}, 60_000)
afterAll(() => h?.stop(), 60_000)

async function fakeSandbox(runId: string, attempt: number): Promise<string> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["sleep", "300"],
    Labels: {
      "helmr.test": h.testLabel,
      "helmr.owner": h.config.HELMR_RUNNER_ID,
      "helmr.kind": "sandbox",
      "helmr.run": runId,
      "helmr.attempt": String(attempt),
      "helmr.session": "sess_none",
    },
  })
  await container.start()
  return container.id
}

describe("sandbox sweep", () => {
  test("ended and superseded attempts' sandboxes go; a live attempt's stays", async () => {
    const deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
    h.restartLoop()
    const done = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "sweep" } })
    await waitForRun(h.db.sql, done.id, ["succeeded"], 120_000)
    await h.stopLoop()
    const live = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "live" } })
    // The live run as a runner holds it: attempt 2, starting, this runner's.
    await walkRun(h.db.sql, live.id, ["starting"])
    await h.db.sql`update runs set attempt = 2, runner_id = ${h.config.HELMR_RUNNER_ID}
      where id = ${live.id}`

    const ended = await fakeSandbox(done.id, 1)
    const superseded = await fakeSandbox(live.id, 1)
    const current = await fakeSandbox(live.id, 2)

    expect(await sweepSandboxes(h.runner.deps)).toBe(2)
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`helmr.test=${h.testLabel}`, "helmr.kind=sandbox"] },
    })
    expect(left.map((c) => c.Id)).toEqual([current])
    expect([ended, superseded]).not.toContain(current)
    expect(await sweepSandboxes(h.runner.deps)).toBe(0)
  }, 180_000)
})
