import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtemp, rm, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createKeyring } from "@helmr/migrations/secrets"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
  testEncryptionKey,
} from "@helmr/migrations/testing"
import pino from "pino"
import { type LocalBuilder, startLocalBuilder } from "../../runner/src/testing/local-builder.ts"
import { run } from "../../sdk/test/packed/packed-sdk.ts"
import { createApp } from "../src/app.ts"

/**
 * scripts/up.sh keeps examples/ in a project of its own: a user's project made with
 * `bash scripts/up.sh project <name>` (prepare.ts --project) keeps its deployment when up.sh's
 * prepare and deploy-examples steps run again.
 */
const REPO = resolve(import.meta.dir, "../..")
let db: TestDatabase
let valkey: TestValkey
let server: ReturnType<typeof Bun.serve>
let tmp = ""
// `deploy --promote` waits for the build: a runner's build loop (local driver) makes it.
let builder: LocalBuilder

beforeAll(async () => {
  db = await createTestDatabase("h12up")
  valkey = createTestValkey("h12up")
  const app = createApp({
    sql: db.sql,
    valkey: valkey.valkey,
    keys: valkey.keys,
    keyring: createKeyring(testEncryptionKey()),
    logger: pino({ level: "silent" }),
  })
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch })
  builder = startLocalBuilder(db.sql)
  tmp = await mkdtemp(join(tmpdir(), "h12-up-"))
})
afterAll(async () => {
  server?.stop(true)
  await builder?.stop()
  await valkey?.cleanup()
  await db?.drop()
  await rm(tmp, { recursive: true, force: true })
})

test("a user's project and deployment survive a rerun of up.sh's prepare and deploy steps", async () => {
  const keysFile = join(tmp, "keys.json")
  const env = {
    HELMR_DATABASE_URL: db.url,
    HELMR_ENCRYPTION_KEY: testEncryptionKey(),
    HELMR_UP_KEYS_FILE: keysFile,
    HELMR_API_URL: server.url.toString().replace(/\/$/, ""),
  }
  const step = async (argv: string[], extra: Record<string, string> = {}) => {
    const result = await run(argv, { cwd: REPO, env: { ...env, ...extra } })
    if (result.code !== 0) throw new Error(`${argv.join(" ")}: ${result.stdout}${result.stderr}`)
    return result
  }
  const prepare = () => step([process.execPath, "scripts/up/prepare.ts"])
  const deployExamples = () => step(["bash", "scripts/up/deploy-examples.sh", keysFile])

  await prepare()
  await deployExamples()
  const mine = await step([process.execPath, "scripts/up/prepare.ts", "--project", "my-tasks"])
  expect(mine.stdout).toContain("export HELMR_API_KEY=hk_dev_")
  const keys = (await Bun.file(keysFile).json()) as Record<string, string>
  // up.sh keeps the dashboard operator's password there too (issue 13).
  expect(Object.keys(keys).sort()).toEqual([
    "dashboard:admin@helmr.local",
    "examples:dev",
    "my-tasks:dev",
  ])
  const refused = await run([process.execPath, "scripts/up/prepare.ts", "--project", "examples"], {
    cwd: REPO,
    env,
  })
  expect(refused.code).toBe(2)

  // The user's own task project, deployed with the user's key.
  const project = join(tmp, "my-tasks")
  const cli = join(REPO, "sdk/src/cli/main.ts")
  await step([process.execPath, cli, "init", project])
  await symlink(join(REPO, "node_modules"), join(project, "node_modules"))
  const userEnv = { HELMR_API_KEY: keys["my-tasks:dev"]! }
  const deployed = await step(
    [process.execPath, cli, "deploy", "--env", "dev", "--dir", project, "--promote"],
    userEnv,
  )
  const userDeployment = deployed.stdout.trim()

  // up.sh again: prepare, then deploy examples/.
  await prepare()
  await deployExamples()

  const current = async (key: string) => {
    const res = await fetch(`${env.HELMR_API_URL}/api/v1/deployments?limit=10`, {
      headers: { authorization: `Bearer ${key}` },
    })
    const body = (await res.json()) as {
      data: { id: string; current: boolean; tasks: { id: string }[] }[]
    }
    return body.data.find((d) => d.current)
  }
  const user = await current(keys["my-tasks:dev"]!)
  expect(user?.id).toBe(userDeployment)
  expect(user?.tasks.map((t) => t.id).sort()).toEqual(["heartbeat", "hello"])
  const examples = await current(keys["examples:dev"]!)
  expect(examples?.tasks.map((t) => t.id)).toContain("review-pr")
  const projects = await db.sql<{ slug: string }[]>`select slug from projects order by slug`
  expect(projects.map((p) => p.slug)).toEqual(["examples", "my-tasks"])
}, 120_000)
