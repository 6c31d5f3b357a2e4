import { afterAll, beforeAll, expect, test } from "bun:test"
import { waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// The session's workspace with the real Docker Engine: kept across attempts, kept for the
// retention after the run ended (also across a runner restart), then removed.

const RETENTION_MS = 3_000
let h: RunnerHarness
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("h10a-ws", {
    HELMR_WORKSPACE_RETENTION_MS: String(RETENTION_MS),
    HELMR_RUNNER_SWEEP_MS: "300",
  })
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
}, 120_000)

afterAll(async () => {
  await h?.stop()
}, 60_000)

async function volumeExists(sessionId: string): Promise<boolean> {
  const docker = h.runner.docker
  if (!docker) throw new Error("the harness has no Docker")
  return docker
    .getVolume(`helmr-ws-${sessionId}`)
    .inspect()
    .then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false
        throw error
      },
    )
}

test("the workspace persists across attempts, outlives the run for the retention, then goes", async () => {
  // `flaky` counts its attempts in a file of the workspace and succeeds on the third.
  const run = await h.trigger({ deploymentId, taskId: "flaky", maxAttempts: 3 })
  const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 180_000)
  expect(done.output).toEqual({ attempts: 3 })
  const endedAt = Date.now()
  expect(await volumeExists(run.sessionId)).toBe(true)

  // A runner restart removes its old sandboxes, not the workspaces still kept.
  await h.stopLoop()
  h.restartLoop()
  await Bun.sleep(500)
  if (Date.now() - endedAt < RETENTION_MS - 500) {
    expect(await volumeExists(run.sessionId)).toBe(true)
  }

  const deadline = Date.now() + 60_000
  while ((await volumeExists(run.sessionId)) && Date.now() < deadline) await Bun.sleep(200)
  expect(await volumeExists(run.sessionId)).toBe(false)
  // Not before the retention passed.
  expect(Date.now() - endedAt).toBeGreaterThanOrEqual(RETENTION_MS - 1_000)
}, 240_000)
