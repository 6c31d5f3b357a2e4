import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cp, rm } from "node:fs/promises"
import { join } from "node:path"
import { Miniflare } from "miniflare"
import { consumerProject, packedSdk, run } from "../../sdk/test/packed/packed-sdk.ts"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "../src/testing.ts"

/**
 * The packed @helmr/sdk's client against a live API, in each runtime a user calls Helmr from:
 * Bun, Node 20 (plain `node`, no loader), Deno and Cloudflare's workerd (through miniflare). Each
 * imports `@helmr/sdk/client` from a project outside the repository that installed the tarball,
 * and runs the same check (runtimes/client-check.mjs).
 */
const TASK = "runtime-check"
let api: TestApi
let config: { apiUrl: string; apiKey: string; taskId: string }
let project = ""

beforeAll(async () => {
  api = await startTestApi("h12rt")
  const dev = api.project.environments.find((e) => e.slug === "dev")!
  await insertTestDeployment(api.db.sql, {
    environmentId: dev.id,
    projectId: api.project.projectId,
    manifest: testManifest([{ id: TASK }]),
  })
  config = { apiUrl: api.listen().url, apiKey: api.apiKeys.dev!, taskId: TASK }
  project = await consumerProject()
  await cp(join(import.meta.dir, "runtimes"), project, { recursive: true })
}, 240_000)
afterAll(async () => {
  await api?.close()
  if (project) await rm(project, { recursive: true, force: true })
})

function expectCheckPassed(result: unknown): void {
  expect(result).toEqual({
    created: true,
    idempotent: { first: true, second: false, same: true },
    retrieved: { id: true, status: "queued", tags: ["runtime-check"] },
    listed: true,
    canceled: "canceled",
    events: [
      expect.objectContaining({ type: "transition" }),
      expect.objectContaining({ type: "transition" }),
    ],
    missing: { name: "ApiError", status: 404, code: "not_found" },
  })
}

async function runMain(argv: string[]): Promise<unknown> {
  const result = await run([...argv, JSON.stringify(config)], { cwd: project })
  if (result.code !== 0) throw new Error(`${argv[0]} exited ${result.code}:\n${result.stderr}`)
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "")
}

describe("the packed client against a live API", () => {
  test("Bun", async () => {
    expectCheckPassed(await runMain([process.execPath, "main.mjs"]))
  })

  test("Node 20, plain node with no loader", async () => {
    const node = Bun.which("node")
    if (!node) throw new Error("node is not installed")
    expect((await run([node, "--version"], { cwd: project })).stdout).toMatch(/^v(2\d|[3-9]\d)\./)
    expectCheckPassed(await runMain([node, "main.mjs"]))
  })

  test("Deno", async () => {
    const deno = Bun.which("deno")
    if (!deno) throw new Error("deno is not installed: run scripts/ensure-deno.sh")
    expectCheckPassed(
      await runMain([deno, "run", "--allow-net", "--node-modules-dir=manual", "main.mjs"]),
    )
  }, 60_000)

  test("Cloudflare workerd through miniflare", async () => {
    // Bundled as a Worker is deployed: one module, the package resolved for workers.
    const built = await Bun.build({
      entrypoints: [join(project, "worker.mjs")],
      target: "browser",
      conditions: ["workerd", "worker"],
      format: "esm",
    })
    expect(built.success).toBe(true)
    const script = await built.outputs[0]!.text()
    const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-01-01" })
    try {
      const res = await mf.dispatchFetch("http://worker.test/", {
        method: "POST",
        body: JSON.stringify(config),
      })
      const body = (await res.json()) as unknown
      expect({ status: res.status, body }).toMatchObject({ status: 200 })
      expectCheckPassed(body)
    } finally {
      await mf.dispose()
    }
  }, 60_000)
})

describe("the packed tarball", () => {
  test("holds the built entries, their declarations, the CLI as bin, and no tests", async () => {
    const listing = await run(["tar", "tzf", await packedSdk()], { cwd: project })
    const files = listing.stdout.trim().split("\n")
    const installed = join(project, "node_modules/@helmr/sdk")
    const pkg = await Bun.file(join(installed, "package.json")).json()
    expect(pkg.peerDependencies).toEqual({ zod: expect.stringMatching(/^\^4\./) })
    expect(pkg.dependencies).toBeUndefined()
    expect(pkg.bin).toEqual({ helmr: "./dist/cli/main.js" })
    for (const [subpath, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (subpath === "./package.json") continue
      const { types, default: js } = target as { types: string; default: string }
      expect(files).toContain(`package/${types.slice(2)}`)
      expect(files).toContain(`package/${js.slice(2)}`)
    }
    expect(files.filter((f) => f.endsWith(".test.ts"))).toEqual([])
    const version = await run([join(project, "node_modules/.bin/helmr"), "--version"], {
      cwd: project,
    })
    expect({ code: version.code, out: version.stdout.trim() }).toEqual({
      code: 0,
      out: pkg.version,
    })
  })
})
