import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { createKeyring } from "@helmr/migrations/secrets"
import { testEncryptionKey } from "@helmr/migrations/testing"
import pino from "pino"
import { dispatcherSettings } from "../../dispatcher/src/config.ts"
import { createDispatcher } from "../../dispatcher/src/engine/dispatcher.ts"
import { type RunnerHarness, startRunnerHarness } from "../../runner/src/testing/harness.ts"
import { bunAdd, consumerProject, packedSdk, run } from "../../sdk/test/packed/packed-sdk.ts"
import { createApp } from "../src/app.ts"

/**
 * A new user's path, end to end: `helmr init` (the packed CLI) in a folder outside the
 * repository, the packed SDK tarball installed into it, `helmr deploy --promote` to a running API
 * with a real runner (Docker sandboxes) and dispatcher behind it; its task runs when triggered and
 * its scheduled task runs when its schedule fires (the cursor moved near, so the test need not
 * wait for the next minute).
 */
let harness: RunnerHarness
let server: ReturnType<typeof Bun.serve>
const stopDispatcher = new AbortController()
let dispatching: Promise<void> = Promise.resolve()
const dirs: string[] = []

beforeAll(async () => {
  harness = await startRunnerHarness("h12e2e")
  const logger = pino({ level: process.env.HELMR_TEST_LOG ?? "silent" })
  const app = createApp({
    sql: harness.db.sql,
    valkey: harness.vk.valkey,
    keys: harness.vk.keys,
    keyring: createKeyring(testEncryptionKey()),
    logger,
  })
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 60, fetch: app.fetch })
}, 60_000)
afterAll(async () => {
  stopDispatcher.abort()
  await dispatching
  server?.stop(true)
  await harness?.stop()
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

test("helmr init → packed SDK → deploy → its task and its scheduled task run", async () => {
  const env = {
    HELMR_API_URL: server.url.toString().replace(/\/$/, ""),
    HELMR_API_KEY: harness.apiKey,
  }
  // The packed CLI, as `bunx helmr` would run it before a project exists.
  const tools = await consumerProject()
  dirs.push(tools)
  const home = await mkdtemp(join(tmpdir(), "h12-user-"))
  dirs.push(home)
  const tarball = await packedSdk()
  const local = `./${basename(tarball)}`
  const made = await run(
    [join(tools, "node_modules/.bin/helmr"), "init", "my-tasks", "--sdk", local],
    { cwd: home },
  )
  expect(made.code).toBe(0)
  const project = join(home, "my-tasks")
  await Bun.write(join(project, local), Bun.file(tarball))
  await bunAdd(project, [local])
  const helmr = (args: string[]) =>
    run([join(project, "node_modules/.bin/helmr"), ...args], { cwd: project, env })
  const typecheck = await run([process.execPath, "run", "typecheck"], { cwd: project })
  expect(typecheck).toMatchObject({ code: 0 })

  const deployed = await helmr(["deploy", "--env", "dev", "--promote"])
  expect(deployed.stderr).toContain("2 tasks: heartbeat (cron * * * * * UTC), hello")
  expect(deployed.code).toBe(0)
  expect(deployed.stderr).toContain("created heartbeat: * * * * * UTC")

  // The task, triggered and followed to its end.
  const triggered = await helmr([
    "runs",
    "trigger",
    "hello",
    "--payload",
    '{"name":"Ada"}',
    "--follow",
  ])
  expect(triggered.stdout).toContain("hello Ada from run run_")
  expect(triggered.code).toBe(0)
  const runId = /triggered hello: (run_\w+)/.exec(triggered.stderr)?.[1] ?? ""
  const got = JSON.parse((await helmr(["runs", "get", runId, "--json"])).stdout)
  expect(got).toMatchObject({ status: "succeeded", output: { greeting: "Hello, Ada!" } })

  // The scheduled task: its instance's next slot moved a few seconds ahead, then a real fire.
  const slot = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000)
  const moved = await harness.db.sql`
    update schedule_instances set next_fire_at = ${slot}, version = version + 1
    where environment_id = ${harness.environmentId} returning id`
  expect(moved).toHaveLength(1)
  const dispatcher = createDispatcher({
    sql: harness.db.sql,
    valkey: harness.vk.valkey,
    keys: harness.vk.keys,
    settings: dispatcherSettings({ dispatcherId: "h12-e2e-dispatcher" }),
    logger: pino({ level: process.env.HELMR_TEST_LOG ?? "silent" }),
  })
  dispatching = dispatcher.start(stopDispatcher.signal)

  const deadline = Date.now() + 120_000
  let scheduled: { id: string; status: string; scheduleId: string | null } | undefined
  while (Date.now() < deadline) {
    const list = JSON.parse((await helmr(["runs", "list", "--task", "heartbeat", "--json"])).stdout)
    scheduled = list.data[0]
    if (scheduled && ["succeeded", "failed", "crashed", "timed_out"].includes(scheduled.status))
      break
    await Bun.sleep(500)
  }
  expect(scheduled).toMatchObject({
    status: "succeeded",
    scheduleId: expect.stringMatching(/^sched_/),
  })
  const fired = JSON.parse((await helmr(["runs", "get", scheduled!.id, "--json"])).stdout)
  expect(fired.output).toMatchObject({ slot: slot.toISOString() })
  const logs = await helmr(["runs", "logs", scheduled!.id])
  expect(logs.stdout).toContain(`heartbeat for slot ${slot.toISOString()}`)
}, 300_000)
