import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { type Deployment, DeploymentDetail } from "@helmr/sdk/contract"
import { startTestApi, type TestApi } from "../testing.ts"
import { sha256Digest } from "./digest.ts"

/**
 * The `helmr` CLI as a user runs it: a child process against a listening API, deploying the
 * product documents' examples verbatim (sdk/test/fixtures/product-docs) and the repo's examples/.
 */

const REPO = resolve(import.meta.dir, "../../..")
const CLI = join(REPO, "sdk/src/cli/main.ts")
const FIXTURES = join(REPO, "sdk/test/fixtures/product-docs")

let api: TestApi
let server: { url: string; stop(): Promise<void> }
beforeAll(async () => {
  api = await startTestApi("i3cli", {}, { builder: true })
  server = api.listen()
})
afterAll(() => api.close())

async function helmr(args: string[], env = "dev", extraEnv: Record<string, string> = {}) {
  const child = Bun.spawn([process.execPath, CLI, ...args], {
    cwd: REPO,
    env: {
      ...process.env,
      HELMR_API_URL: server.url,
      HELMR_API_KEY: api.apiKeys[env] ?? "",
      ...extraEnv,
    },
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout: stdout.trim(), stderr: stderr.trim(), code }
}

async function detail(id: string, env = "dev"): Promise<DeploymentDetail> {
  const res = await api.app.request(`/api/v1/deployments/${id}`, {
    headers: { authorization: `Bearer ${api.apiKeys[env]}` },
  })
  expect(res.status).toBe(200)
  return DeploymentDetail.parse(await res.json())
}

describe("helmr deploy with the product documents' examples", () => {
  test("review-pr deploys; the manifest holds its cache mount and package.json digest", async () => {
    const dir = join(FIXTURES, "review-pr")
    const run = await helmr(["deploy", "--env", "dev", "--dir", dir])
    expect(run.stderr).toContain("1 task: review-pr")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^dep_[0-9a-z]{26}$/)
    const d = await detail(run.stdout)
    const packageDigest = sha256Digest(await Bun.file(join(dir, "package.json")).bytes())
    expect(d.files).toEqual([{ path: "package.json", digest: packageDigest }])
    expect(d.manifest.tasks).toEqual([
      {
        id: "review-pr",
        kind: "task",
        exportName: "reviewPr",
        sandbox: "review",
        maxDuration: 900,
        secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }],
        payloadSchema: expect.objectContaining({
          type: "object",
          properties: {
            prNumber: { type: "integer", exclusiveMinimum: 0, maximum: expect.any(Number) },
          },
          required: ["prNumber"],
        }),
      },
    ])
    expect(d.manifest.sandboxes).toEqual([
      {
        name: "review",
        image: "review",
        workspace: "/workspace",
        resources: { cpu: 2, memory: "4Gi", memoryBytes: 4 * 1024 ** 3 },
        network: "bridge",
      },
    ])
    expect(d.manifest.images).toEqual([
      {
        name: "review",
        from: "node:24-bookworm-slim",
        steps: [
          { op: "workdir", path: "/workspace" },
          { op: "run", argv: ["npm", "install", "-g", "bun@1.3.10"], cache: [] },
          {
            op: "copy",
            dest: "/workspace/package.json",
            source: { kind: "file", path: "package.json" },
            files: [{ path: "package.json", digest: packageDigest }],
          },
          {
            op: "run",
            argv: ["bun", "install"],
            cache: [{ mountPath: "/root/.bun/install/cache", cache: "review-bun" }],
          },
        ],
      },
    ])
    // The same project again is the same deployment.
    const again = await helmr(["deploy", "--env", "dev", "--dir", dir])
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(run.stdout)
    expect(again.stderr).toContain("unchanged")
    // And the uploaded bundle loads: it exports the task, zod and the SDK inlined.
    const [blob] = await api.db.sql<{ content: Uint8Array }[]>`
      select b.content from blobs b join deployments d on d.bundle_digest = b.digest where d.id = ${run.stdout}`
    const text = new TextDecoder().decode(blob!.content)
    expect(text).toContain("review-pr")
    expect(text).not.toMatch(/from\s+["'](zod|@helmr\/sdk)["']/)
  }, 60_000)

  test("nightly-maintenance deploys with --promote and its schedule is reconciled", async () => {
    const dir = join(FIXTURES, "nightly-maintenance")
    // Its task declares API_TOKEN, which prod lacks: promotion refuses it unless allowed.
    const refused = await helmr(["deploy", "--env", "prod", "--dir", dir, "--promote"], "prod")
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("helmr: missing secrets in prod: API_TOKEN")
    expect(refused.stderr).toContain("declares secret not set in environment prod: API_TOKEN")
    const run = await helmr(
      ["deploy", "--env", "prod", "--dir", dir, "--promote", "--allow-missing-secrets"],
      "prod",
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toContain("schedules: 1 created, 0 updated, 0 removed, 0 unchanged")
    const d = await detail(run.stdout, "prod")
    expect(d.current).toBe(true)
    expect(d.manifest.tasks[0]).toMatchObject({
      id: "nightly-maintenance",
      kind: "scheduled",
      exportName: "nightlyMaintenance",
      payloadSchema: null,
      cron: { pattern: "0 2 * * *", timezone: "UTC" },
      secrets: [{ name: "API_TOKEN", env: "API_TOKEN" }],
    })
    expect(d.manifest.images[0]?.steps[3]).toEqual({
      op: "run",
      argv: ["bun", "install"],
      cache: [{ mountPath: "/root/.bun/install/cache", cache: "nightly-bun" }],
    })
    const rows = await api.db.sql<{ taskId: string; cron: string; nextFireAt: Date }[]>`
      select s.task_id, s.cron, si.next_fire_at from schedule_instances si
      join schedules s on s.id = si.schedule_id
      join environments e on e.id = si.environment_id where e.slug = 'prod'`
    expect(rows.map((r) => [r.taskId, r.cron, r.nextFireAt.getUTCHours()])).toEqual([
      ["nightly-maintenance", "0 2 * * *", 2],
    ])

    // helmr promote of the current deployment changes nothing.
    const again = await helmr(
      ["promote", run.stdout, "--env", "prod", "--allow-missing-secrets"],
      "prod",
    )
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("is already current in prod; nothing changed")
  }, 60_000)

  test("examples/ deploys and promotes both tasks", async () => {
    const run = await helmr(
      [
        "deploy",
        "--env",
        "staging",
        "--dir",
        join(REPO, "examples"),
        "--promote",
        "--allow-missing-secrets",
        "--json",
      ],
      "staging",
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toContain("helmr: missing secrets in staging: API_TOKEN, OPENAI_API_KEY")
    const body = JSON.parse(run.stdout) as { deployment: Deployment; changed: boolean }
    expect(body.changed).toBe(true)
    expect(body.deployment.tasks.map((t) => t.id).sort()).toEqual([
      "nightly-maintenance",
      "review-pr",
    ])
    const d = await detail(body.deployment.id, "staging")
    expect(d.manifest.images.map((i) => i.from)).toEqual([
      "helmr-local/bun:1.4.5",
      "helmr-local/bun:1.4.5",
    ])
  }, 60_000)
})

describe("helmr deploy refuses invalid declarations, naming the task and the field", () => {
  const made: string[] = []
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true })
  })

  /** A task project outside the repo that still resolves @helmr/sdk and zod like a user's. */
  async function project(body: string, files: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "helmr-i3-project-"))
    made.push(dir)
    await symlink(join(REPO, "node_modules"), join(dir, "node_modules"))
    await Bun.write(join(dir, "package.json"), '{ "name": "bad", "type": "module" }\n')
    for (const [path, content] of Object.entries(files)) await Bun.write(join(dir, path), content)
    const header = `import { cache, image, sandbox, schedules, source, task } from "@helmr/sdk"
import { z } from "zod"
const runtime = image("rt").from("helmr-local/bun:1.4.5").workdir("/workspace")
  .copy("/workspace/package.json", source.file("package.json"))
  .run(["bun", "install"], { cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("rt-bun") }] })
const sb = sandbox("rt").image(runtime)
`
    await Bun.write(join(dir, "index.ts"), `${header}${body}\n`)
    return dir
  }

  test.each([
    [
      "a bad id",
      `export const a = task({ id: "review pr", sandbox: sb, run: async () => 1 })`,
      /task "review pr": id: "review pr" must match/,
    ],
    [
      "a bad cron",
      `export const a = schedules.task({ id: "nightly", sandbox: sb, cron: "0 2 * *", run: async () => {} })`,
      /task "nightly": cron: "0 2 \* \*" must have 5 fields/,
    ],
    [
      "a bad timezone",
      `export const a = schedules.task({ id: "nightly", sandbox: sb, cron: { pattern: "0 2 * * *", timezone: "Moon/Crater" }, run: async () => {} })`,
      /task "nightly": cron.timezone: "Moon\/Crater" is not an IANA time zone/,
    ],
    [
      "memory 4G",
      `export const a = task({ id: "big", sandbox: sandbox("big").image(runtime).resources({ cpu: 2, memory: "4G" as "4Gi" }), run: async () => 1 })`,
      /task "big": sandbox "big": resources.memory: "4G" is not a memory size: use a number with Ki, Mi, Gi or Ti/,
    ],
    [
      "a duplicate id",
      `export const a = task({ id: "twice", sandbox: sb, run: async () => 1 })\nexport const b = task({ id: "twice", sandbox: sb, run: async () => 2 })`,
      /task "twice": id: duplicate task id/,
    ],
    [
      "a payload on a scheduled task",
      `export const a = schedules.task({ id: "nightly", sandbox: sb, cron: "0 2 * * *", payload: z.object({}), run: async () => {} } as never)`,
      /task "nightly": payload: scheduled tasks take no payload/,
    ],
    [
      "an unexported task",
      `export const a = task({ id: "shown", sandbox: sb, run: async () => 1 })\ntask({ id: "hidden", sandbox: sb, run: async () => 1 })`,
      /task "hidden": declared but not exported/,
    ],
    [
      "a missing source file",
      `const img = image("m").from("alpine").copy("/x", source.file("missing.txt"))\nexport const a = task({ id: "m", sandbox: sandbox("m").image(img), run: async () => 1 })`,
      /image "m": copy \/x: source.file\("missing.txt"\): no such file/,
    ],
  ])(
    "%s",
    async (_name, body, message) => {
      const dir = await project(body)
      const run = await helmr(["deploy", "--env", "dev", "--dir", dir])
      expect(run.stderr).toMatch(message)
      expect(run.stderr).toStartWith("helmr: bundling")
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
    },
    60_000,
  )

  test("source.dir copies every file below it, skipping node_modules and .git", async () => {
    const dir = await project(
      `const img = image("d").from("alpine").copy("/app/prompts", source.dir("prompts"))\nexport const a = task({ id: "dir-task", sandbox: sandbox("d").image(img), run: async () => 1 })`,
      {
        "prompts/a.txt": "A",
        "prompts/sub/b.txt": "B",
        "prompts/node_modules/x.js": "x",
        "prompts/.git/HEAD": "h",
      },
    )
    const run = await helmr(["deploy", "--env", "dev", "--dir", dir])
    expect(run.code).toBe(0)
    const d = await detail(run.stdout)
    expect(d.files).toEqual([
      { path: "prompts/a.txt", digest: sha256Digest("A") },
      { path: "prompts/sub/b.txt", digest: sha256Digest("B") },
    ])
  }, 60_000)
})

describe("helmr usage", () => {
  test("help reads like a CLI; bad usage exits 2 and points at --help", async () => {
    const help = await helmr(["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("Usage:\n  helmr <command> [options]")
    for (const command of ["deploy", "promote", "deployments"]) {
      const sub = await helmr([command, "--help"])
      expect(sub.code).toBe(0)
      expect(sub.stdout).toContain(`Usage:\n  helmr ${command}`)
      expect(sub.stdout).toContain("HELMR_API_KEY")
    }
    const unknown = await helmr(["deploy", "--env", "dev", "--frobnicate"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe(
      "helmr: error: unknown option '--frobnicate'\nRun 'helmr deploy --help' for usage.",
    )
    const missingEnv = await helmr(["promote", "dep_x"])
    expect(missingEnv.code).toBe(2)
    expect(missingEnv.stderr).toContain("missing --env <env>")
  })

  test("--env must be the key's environment; a bad key is a clear error", async () => {
    const wrongEnv = await helmr(
      ["deploy", "--env", "prod", "--dir", join(FIXTURES, "review-pr")],
      "dev",
    )
    expect(wrongEnv.code).toBe(1)
    expect(wrongEnv.stderr).toBe(
      "helmr: error: --env prod does not match HELMR_API_KEY, which belongs to environment 'dev'",
    )
    const badKey = await helmr(["deployments", "--env", "dev"], "dev", {
      HELMR_API_KEY: "hk_dev_nope",
    })
    expect(badKey.code).toBe(1)
    expect(badKey.stderr).toContain("invalid or revoked API key (check HELMR_API_KEY)")
    const noKey = await helmr(["deployments", "--env", "dev"], "dev", { HELMR_API_KEY: "" })
    expect(noKey.stderr).toContain("HELMR_API_KEY is not set")
  })

  test("helmr deployments lists, helmr promote rolls back", async () => {
    const list = await helmr(["deployments", "--env", "dev"])
    expect(list.code).toBe(0)
    const lines = list.stdout.split("\n")
    expect(lines[0]).toBe("VERSION\tID\tCURRENT\tBUILD\tCREATED\tTASKS")
    expect(lines.at(-1)?.split("\t")[3]).toBe("ready")
    const oldest = lines.at(-1)!.split("\t")[1]!
    // review-pr declares OPENAI_API_KEY, which dev lacks.
    const refused = await helmr(["promote", oldest, "--env", "dev"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("declares secret not set in environment dev: OPENAI_API_KEY")
    const promoted = await helmr(["promote", oldest, "--env", "dev", "--allow-missing-secrets"])
    expect(promoted.code).toBe(0)
    expect(promoted.stdout).toContain(`promoted ${oldest}`)
    expect((await detail(oldest)).current).toBe(true)
  }, 30_000)
})
