import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SandboxDriver } from "../src/sandbox/driver.ts"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// The start watchdog: a sandbox whose runtime never hears its `start` message (here the runner's
// driver swallows it, so the runtime waits for ever after `ready`) prints no `started`; past
// HELMR_RUNNER_START_TIMEOUT_MS the sandbox is killed and the attempt is lost, retried if it may be.

let h: RunnerHarness
let deploymentId: string
/** By the payload's name: how many more `start` messages of such runs the driver drops. */
const swallow = new Map<string, number>()

beforeAll(async () => {
  h = await startRunnerHarness("i15watchdog", {
    HELMR_SANDBOX_DRIVER: "local",
    HELMR_RUNNER_START_TIMEOUT_MS: "1500",
  })
  const driver: SandboxDriver = h.runner.deps.driver
  h.runner.deps.driver = {
    ...driver,
    async start(launch, onLine) {
      const sandbox = await driver.start(launch, onLine)
      return {
        ...sandbox,
        send(message) {
          const name = message.type === "start" ? nameOf(message.payload) : ""
          const left = swallow.get(name) ?? 0
          if (left > 0) swallow.set(name, left - 1)
          else sandbox.send(message)
        },
      }
    },
  }
  deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
}, 60_000)
afterAll(() => h?.stop(), 60_000)

const nameOf = (payload: unknown) => String((payload as { name?: unknown } | null)?.name ?? "")

const watchdogLogs = async (runId: string) =>
  (await runEvents(h.db.sql, runId)).filter(
    (e) => e.type === "log" && e.message?.startsWith("no `started` from sandbox"),
  )

/** A `hello` run whose first `drops` start messages are swallowed, once it ended. */
async function runSwallowing(name: string, drops: number, maxAttempts: number) {
  swallow.set(name, drops)
  const run = await h.trigger({ deploymentId, taskId: "hello", payload: { name }, maxAttempts })
  return waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 30_000)
}

describe("start watchdog", () => {
  test("a start nobody answers loses the attempt; the next attempt runs the task", async () => {
    const done = await runSwallowing("late", 1, 3)
    expect(done.status).toBe("succeeded")
    expect(done.attempt).toBe(2)
    const events = await runEvents(h.db.sql, done.id)
    const retry = events.find((e) => e.type === "transition" && e.data?.reason === "retry")
    expect(retry?.data?.outcome).toBe("crashed")
    expect(retry?.data?.error).toMatchObject({ name: "StartTimeoutError" })
    const logs = await watchdogLogs(done.id)
    expect(logs.map((e) => e.data?.attempt)).toEqual([1])
    expect(logs[0]?.message).toMatch(
      /^no `started` from sandbox \S+ within 1\.5 s of the start message \(HELMR_RUNNER_START_TIMEOUT_MS; its runtime printed `ready` .*\); killed, the attempt is lost$/,
    )
  }, 40_000)

  test("a sandbox that never starts its task uses up the attempts and ends crashed", async () => {
    const done = await runSwallowing("never", 99, 2)
    expect(done.status).toBe("crashed")
    expect(done.attempt).toBe(2)
    expect(done.error).toMatchObject({ name: "StartTimeoutError" })
    expect((await watchdogLogs(done.id)).map((e) => e.data?.attempt)).toEqual([1, 2])
  }, 40_000)
})
