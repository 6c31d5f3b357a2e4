import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { grantOperator } from "@helmr/migrations/operators"
import { transitionRun } from "@helmr/migrations/queries/runs"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
  testEncryptionKey,
} from "@helmr/migrations/testing"
import { createClient } from "@helmr/sdk"
import type { Subprocess } from "bun"
import { FIXTURE_TASKS } from "./src/test-fixtures.ts"
import { insertTestDeployment } from "./src/testing.ts"

/** The API booted by Deno (installed from npm by scripts/ensure-deno.sh) serves the same app. */
let db: TestDatabase
let valkey: TestValkey
let deno: Subprocess<"ignore", "pipe", "pipe"> | undefined
let url = ""
let apiKey = ""
const OPERATOR_PASSWORD = "correct horse battery staple"

beforeAll(async () => {
  const binary = Bun.which("deno")
  if (!binary) throw new Error("deno is not installed: run scripts/ensure-deno.sh")
  db = await createTestDatabase("i4deno")
  valkey = createTestValkey("i4deno")
  const project = await bootstrapProject(db.sql, { slug: "deno" })
  const dev = project.environments.find((e) => e.slug === "dev")!
  apiKey = dev.apiKey!
  await grantOperator(db.sql, {
    email: "ops@example.com",
    password: OPERATOR_PASSWORD,
    projectSlug: "deno",
  })
  await insertTestDeployment(db.sql, {
    environmentId: dev.id,
    projectId: project.projectId,
    manifest: FIXTURE_TASKS,
  })
  deno = Bun.spawn(
    [
      binary,
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      "--node-modules-dir=manual",
      // The workspace's @helmr/sdk resolves to its TypeScript sources (sdk/package.json exports).
      "--conditions=source",
      "deno-main.ts",
    ],
    {
      cwd: import.meta.dir,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        HELMR_DATABASE_URL: db.url,
        HELMR_VALKEY_URL: "redis://127.0.0.1:6379",
        HELMR_ENCRYPTION_KEY: testEncryptionKey(),
        HELMR_KEY_PREFIX: valkey.prefix,
        HELMR_API_PORT: "0",
        HELMR_API_HOST: "127.0.0.1",
        // Migrating on start under Deno too: already applied, so this only proves it can.
        HELMR_MIGRATE_ON_START: "true",
        HELMR_LOG_LEVEL: "info",
      },
    },
  )
  url = await readListenUrl(deno)
}, 120_000)

afterAll(async () => {
  if (deno && deno.exitCode === null) {
    deno.kill("SIGTERM")
    await Promise.race([deno.exited, Bun.sleep(10_000)])
    if (deno.exitCode === null) deno.kill("SIGKILL")
  }
  await valkey?.cleanup()
  await db?.drop()
})

/** Reads the API's pino lines until "api listening" and returns its URL. */
async function readListenUrl(proc: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let text = ""
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
    for (const line of text.split("\n")) {
      if (!line.includes('"api listening"')) continue
      const parsed = JSON.parse(line) as { url: string; runtime: string }
      expect(parsed.runtime).toBe("deno")
      reader.releaseLock()
      return parsed.url.replace(/\/$/, "")
    }
  }
  const stderr = await new Response(proc.stderr).text()
  throw new Error(`deno API did not start:\n${text}\n${stderr}`)
}

describe("API on Deno", () => {
  test("serves a trigger through the client, then the run's events", async () => {
    const client = createClient({ apiUrl: url, apiKey })
    const health = await fetch(`${url}/healthz`)
    expect(await health.json()).toEqual({ status: "ok", postgres: "ok", valkey: "ok" })

    const { id, created } = await client.runs.trigger("review-pr", { prNumber: 5 })
    expect(created).toBe(true)
    const run = await client.runs.retrieve(id)
    expect(run).toMatchObject({ status: "queued", payload: { prNumber: 5 } })
    expect(await valkey.valkey.zscore(valkey.keys.runQueue, id)).not.toBeNull()
    const bad = await client.runs.trigger("review-pr", { prNumber: "x" }).catch((e: unknown) => e)
    expect((bad as { status: number }).status).toBe(422)

    await transitionRun(db.sql, id, ["queued"], "starting")
    await transitionRun(db.sql, id, ["starting"], "running")
    await transitionRun(db.sql, id, ["running"], "succeeded", { output: { ok: true } })
    const types: string[] = []
    for await (const event of client.runs.events(id)) types.push(event.type)
    expect(types).toEqual(["transition", "transition", "transition", "transition"])
  }, 60_000)

  test("serves the dashboard: sign-in (argon2id under Deno), a page, the page script", async () => {
    const form = await fetch(`${url}/sign-in`)
    expect(form.status).toBe(200)
    const html = await form.text()
    expect(html).toContain("Sign in to Helmr")
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ""
    const preCookie = form.headers.getSetCookie().find((c) => c.startsWith("helmr_signin_csrf="))
    const signIn = await fetch(`${url}/sign-in`, {
      method: "POST",
      headers: { cookie: preCookie?.split(";")[0] ?? "" },
      body: new URLSearchParams({
        _csrf: token,
        email: "ops@example.com",
        password: OPERATOR_PASSWORD,
        next: "/",
      }),
      redirect: "manual",
    })
    expect(signIn.status).toBe(303)
    const session = signIn.headers.getSetCookie().find((c) => c.startsWith("helmr_session="))
    expect(session).toContain("HttpOnly")
    const runs = await fetch(`${url}/p/deno/dev/runs`, {
      headers: { cookie: session?.split(";")[0] ?? "" },
    })
    expect(runs.status).toBe(200)
    expect(await runs.text()).toContain("<h1>Runs</h1>")
    const script = await fetch(`${url}/assets/dashboard.js`)
    expect(script.status).toBe(200)
    expect(await script.text()).toContain("EventSource")
  }, 60_000)

  test("SIGTERM drains and exits 0", async () => {
    deno!.kill("SIGTERM")
    const code = await Promise.race([deno!.exited, Bun.sleep(20_000).then(() => "timeout")])
    expect(code).toBe(0)
  }, 30_000)
})
