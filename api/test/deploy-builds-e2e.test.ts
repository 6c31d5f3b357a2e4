import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createKeyring } from "@helmr/migrations/secrets"
import { testEncryptionKey } from "@helmr/migrations/testing"
import { Deployment, type DeploymentBuildLog } from "@helmr/sdk/contract"
import pino from "pino"
import { runEvents, waitForRun } from "../../runner/src/testing/deployments.ts"
import { type RunnerHarness, startRunnerHarness } from "../../runner/src/testing/harness.ts"
import { runCli } from "../../sdk/src/cli/main.ts"
import { createApp } from "../src/app.ts"

/**
 * Deploy-time builds through a real API, a real runner and Docker: `helmr deploy` prints the
 * build as the runner makes it; a graph whose `run` step exits 1 is refused at promotion naming
 * the step and its output; a good one is promoted (missing secrets named, refused without the
 * override) and its first run builds nothing.
 */
const REPO = resolve(import.meta.dir, "../..")
let h: RunnerHarness
let server: ReturnType<typeof Bun.serve>
let tmp = ""

beforeAll(async () => {
  h = await startRunnerHarness("h12builds")
  const app = createApp({
    sql: h.db.sql,
    valkey: h.vk.valkey,
    keys: h.vk.keys,
    keyring: createKeyring(testEncryptionKey()),
    logger: pino({ level: process.env.HELMR_TEST_LOG ?? "silent" }),
  })
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 60, fetch: app.fetch })
  tmp = await mkdtemp(join(tmpdir(), "h12-builds-"))
}, 60_000)
afterAll(async () => {
  server?.stop(true)
  await h?.stop()
  await rm(tmp, { recursive: true, force: true })
})

const url = () => server.url.toString().replace(/\/$/, "")

async function helmr(args: string[]) {
  const stdout: string[] = []
  const stderr: string[] = []
  const code = await runCli(
    args,
    { HELMR_API_URL: url(), HELMR_API_KEY: h.apiKey },
    {
      result: (line) => stdout.push(line),
      progress: (line) => stderr.push(`helmr: ${line}`),
      error: (line) => stderr.push(line),
    },
  )
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${url()}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${h.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/** A task project in a temporary folder, with the workspace's SDK as `bun install` would give. */
async function project(name: string, index: string): Promise<string> {
  const dir = join(tmp, name)
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name, private: true, type: "module", main: "index.ts" }),
  )
  await writeFile(join(dir, "index.ts"), index)
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"))
  return dir
}

const createdId = (stderr: string) => /created deployment (dep_\w+)/.exec(stderr)?.[1] ?? ""

test("a graph whose run step exits 1 fails its build and is refused at promotion, naming the step", async () => {
  // Unique output: BuildKit's cache outlives test runs, a failed step is never cached anyway.
  const dir = await project(
    "broken",
    `import { image, sandbox, task } from "@helmr/sdk"
const img = image("broken").from("helmr-local/bun:1.4.5")
  .run(["sh", "-c", "echo preparing ${h.testLabel}; echo the tool is missing >&2; exit 1"])
const sb = sandbox("broken").image(img).workspace("/workspace")
export const broken = task({ id: "broken", sandbox: sb, run: async () => ({ ok: true }) })
`,
  )
  const deployed = await helmr(["deploy", "--env", "dev", "--dir", dir, "--promote"])
  expect(deployed.code).toBe(1)
  const id = createdId(deployed.stderr)
  expect(id).toMatch(/^dep_/)
  // Progress as the runner built it, then the failure with the step and its output.
  expect(deployed.stderr).toContain("helmr: build: sandbox broken: image broken")
  expect(deployed.stderr).toMatch(/helmr: build: .*RUN .*exit 1.*: failed/)
  expect(deployed.stderr).toMatch(
    new RegExp(`helmr: error: the build of ${id} failed at step \\[\\d/\\d\\] RUN .*exit 1`),
  )
  expect(deployed.stderr).toContain(`preparing ${h.testLabel}`)
  expect(deployed.stderr).toContain("the tool is missing")

  // The API refuses it too, with the step and its output; nothing became current.
  const refused = await api("POST", `/deployments/${id}/promote`, {})
  expect(refused.status).toBe(409)
  const error = refused.json.error as { code: string; message: string }
  expect(error.code).toBe("build_failed")
  expect(error.message).toMatch(/its build failed at step \[\d\/\d\] RUN .*exit 1/)
  expect(error.message).toContain("the tool is missing")
  const [env] = await h.db.sql<{ current: string | null }[]>`
    select current_deployment_id as current from environments where id = ${h.environmentId}`
  expect(env?.current).toBeNull()
  const got = await api("GET", `/deployments/${id}`)
  expect(Deployment.parse(got.json).build).toMatchObject({
    status: "failed",
    attempts: 1,
    error: { image: "broken", step: expect.stringMatching(/RUN .*exit 1/) },
  })
  // helmr promote says the same.
  const promoted = await helmr(["promote", id, "--env", "dev"])
  expect(promoted.code).toBe(1)
  expect(promoted.stderr).toContain(`the build of ${id} failed at step`)
}, 240_000)

test("a good graph is built once at deploy, promoted past missing secrets only when allowed, and its first run builds nothing", async () => {
  const dir = await project(
    "good",
    `import { image, sandbox, task } from "@helmr/sdk"
const img = image("good").from("helmr-local/bun:1.4.5").workdir("/workspace")
  .run(["sh", "-c", "echo built ${h.testLabel} > /workspace/marker.txt"])
const sb = sandbox("good").image(img).workspace("/workspace")
export const good = task({
  id: "good",
  sandbox: sb,
  secrets: [{ name: "GOOD_TOKEN", env: "GOOD_TOKEN" }],
  run: async () => ({ hasToken: Boolean(process.env.GOOD_TOKEN) }),
})
`,
  )
  const deployed = await helmr(["deploy", "--env", "dev", "--dir", dir, "--promote"])
  const id = createdId(deployed.stderr)
  // Built, then promotion refused for the secret the task declares and dev lacks.
  expect(deployed.stderr).toContain("helmr: missing secrets in dev: GOOD_TOKEN")
  expect(deployed.stderr).toMatch(/helmr: build: .*RUN .*marker\.txt/)
  expect(deployed.stderr).toContain(`helmr: build of ${id} is ready`)
  expect(deployed.stderr).toContain("[missing_secrets, HTTP 409]")
  expect(deployed.stderr).toMatch(/declares secret not set in environment dev: GOOD_TOKEN/)
  expect(deployed.code).toBe(1)

  const log = (await api("GET", `/deployments/${id}/build`)).json as DeploymentBuildLog
  expect(log.build.status).toBe("ready")
  expect(log.events.at(-1)?.message).toMatch(/^build ready in \d+\.\ds$/)
  const more = (await api("GET", `/deployments/${id}/build?after=${log.next}`)).json
  expect(more.events).toEqual([])

  // Allowed through the API's flag (the CLI's --allow-missing-secrets sends it).
  const promoted = await helmr(["promote", id, "--env", "dev", "--allow-missing-secrets"])
  expect(promoted.stdout).toContain(`promoted ${id}`)
  expect(promoted.code).toBe(0)

  await h.setSecret("GOOD_TOKEN", "s3cret")
  const triggered = await api("POST", "/tasks/good/trigger", {})
  expect(triggered.status).toBe(201)
  const runId = triggered.json.id as string
  const done = await waitForRun(h.db.sql, runId, ["succeeded", "failed", "crashed"], 120_000)
  expect(done.error).toBeNull()
  expect(done.output).toEqual({ hasToken: true })
  const events = await runEvents(h.db.sql, runId)
  expect(events.filter((e) => e.type === "build")).toEqual([])
  expect(events.some((e) => e.type === "transition")).toBe(true)
}, 240_000)
