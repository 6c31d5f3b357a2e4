import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Deployment } from "@helmr/sdk/contract"
import { startTestApi, type TestApi } from "../../src/testing.ts"
import { cliFor } from "./cli-harness.ts"

/** `helmr init` and `helmr dev` (deploys again after a file changes; streams run events). */
const REPO = resolve(import.meta.dir, "../../..")
let api: TestApi
let helmr: ReturnType<typeof cliFor>
let tmp = ""

beforeAll(async () => {
  api = await startTestApi("h12dev", {}, { builder: true })
  helmr = cliFor(api, api.listen().url)
  tmp = await mkdtemp(join(tmpdir(), "h12-init-"))
})
afterAll(async () => {
  await api.close()
  await rm(tmp, { recursive: true, force: true })
})

describe("helmr init", () => {
  test("writes a task project; refuses a folder that is not empty", async () => {
    const dir = join(tmp, "My Tasks")
    const made = await helmr(["init", dir])
    expect(made.code).toBe(0)
    expect(made.stdout).toContain("bunx helmr deploy --env dev --promote")
    expect((await readdir(dir, { recursive: true })).sort()).toEqual([
      ".gitignore",
      "README.md",
      "package.json",
      "src",
      "src/heartbeat.ts",
      "src/hello.ts",
      "src/index.ts",
      "src/runtime.ts",
      "tsconfig.json",
    ])
    const pkg = await Bun.file(join(dir, "package.json")).json()
    expect(pkg).toMatchObject({
      name: "my-tasks",
      main: "src/index.ts",
      dependencies: { "@helmr/sdk": expect.stringMatching(/^\^\d+\.\d+\.\d+$/), zod: "^4.1.0" },
    })
    const readme = await Bun.file(join(dir, "README.md")).text()
    expect(readme).toContain(
      "bun install\nbunx helmr deploy --env dev --promote\nbunx helmr runs trigger hello",
    )

    const again = await helmr(["init", dir])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("is not empty")
    const json = await helmr(["init", join(tmp, "other"), "--name", "other-tasks", "--json"])
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: "other-tasks",
      files: expect.arrayContaining(["src/hello.ts"]),
    })
    const badName = await helmr(["init", join(tmp, "x"), "--name", "Bad Name"])
    expect(badName.code).toBe(2)
  })
})

describe("helmr dev", () => {
  test("deploys, redeploys after a file changes, and streams the events of new runs", async () => {
    const dir = join(tmp, "dev-project")
    expect((await helmr(["init", dir])).code).toBe(0)
    // The workspace's SDK and zod, as `bun install` would provide them.
    await symlink(join(REPO, "node_modules"), join(dir, "node_modules"))

    const lines: string[] = []
    const seen = (pattern: RegExp) => lines.some((l) => pattern.test(l))
    const until = async (pattern: RegExp, what: string) => {
      const deadline = Date.now() + 60_000
      while (!seen(pattern)) {
        if (Date.now() > deadline) throw new Error(`no ${what} in:\n${lines.join("\n")}`)
        await Bun.sleep(50)
      }
    }
    const controller = new AbortController()
    const running = helmr(["dev", "--dir", dir], {
      signal: controller.signal,
      onLine: (line) => lines.push(line),
    })
    try {
      await until(/deployed dep_\w+ \(version 1\)/, "first deployment")
      const hello = join(dir, "src/hello.ts")
      const source = await Bun.file(hello).text()
      await Bun.write(
        hello,
        `${source}\nexport const bye = task({ id: "bye", sandbox: sb, run: async () => "bye" })\n`,
      )
      await Bun.write(
        join(dir, "src/index.ts"),
        `${await Bun.file(join(dir, "src/index.ts")).text()}export { bye } from "./hello.ts"\n`,
      )
      await until(/deployed dep_\w+ \(version 2\)/, "redeployment after the change")

      const headers = {
        authorization: `Bearer ${api.apiKeys.dev}`,
        "content-type": "application/json",
      }
      const current = await api.app.request("/api/v1/deployments?limit=5", { headers })
      const list = (await current.json()) as {
        data: { version: number; current: boolean; tasks: { id: string }[] }[]
      }
      expect(list.data.find((d) => d.current)).toMatchObject({ version: 2 })
      expect(
        list.data
          .find((d) => d.current)
          ?.tasks.map((t) => t.id)
          .sort(),
      ).toEqual(["bye", "heartbeat", "hello"])

      const trigger = await api.app.request("/api/v1/tasks/bye/trigger", {
        method: "POST",
        headers,
        body: "{}",
      })
      const { id } = (await trigger.json()) as { id: string }
      await until(new RegExp(`\\[bye ${id}\\] .*\\[transition\\]`), "the new run's events")
      // A change that breaks the build is reported; the watch goes on.
      await Bun.write(join(dir, "src/index.ts"), 'export { nope } from "./missing.ts"\n')
      await until(/deploy failed: /, "a failed deploy report")
    } finally {
      controller.abort()
    }
    expect(await running).toMatchObject({ code: 0 })

    // What dev left behind, through deployments and promote with --json: a rollback to v1.
    const listed = JSON.parse((await helmr(["deployments", "--env", "dev", "--json"])).stdout)
    expect(listed.data.map((d: { version: number }) => d.version)).toEqual([2, 1])
    const first = listed.data[1].id as string
    const rolledBack = await helmr(["promote", first, "--env", "dev", "--json"])
    expect(JSON.parse(rolledBack.stdout)).toMatchObject({
      changed: true,
      deployment: { id: first },
    })
  }, 120_000)

  test("a task declaring a secret the environment lacks: refused unless --allow-missing-secrets", async () => {
    const dir = join(tmp, "secret-project")
    expect((await helmr(["init", dir])).code).toBe(0)
    await symlink(join(REPO, "node_modules"), join(dir, "node_modules"))
    const hello = join(dir, "src/hello.ts")
    await Bun.write(
      hello,
      `${await Bun.file(hello).text()}\nexport const keyed = task({ id: "keyed", sandbox: sb, secrets: [{ name: "DEV_ONLY_TOKEN", env: "T" }], run: async () => "k" })\n`,
    )
    await Bun.write(
      join(dir, "src/index.ts"),
      `${await Bun.file(join(dir, "src/index.ts")).text()}export { keyed } from "./hello.ts"\n`,
    )
    const watch = async (args: string[], pattern: RegExp) => {
      const lines: string[] = []
      const controller = new AbortController()
      const running = helmr(["dev", "--dir", dir, ...args], {
        signal: controller.signal,
        onLine: (line) => lines.push(line),
      })
      const deadline = Date.now() + 60_000
      try {
        while (!lines.some((l) => pattern.test(l))) {
          if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${lines.join("\n")}`)
          await Bun.sleep(50)
        }
      } finally {
        controller.abort()
      }
      expect(await running).toMatchObject({ code: 0 })
      return lines
    }
    const refused = await watch([], /deploy failed: .*DEV_ONLY_TOKEN/)
    expect(refused.some((l) => l.startsWith("missing secrets in dev: DEV_ONLY_TOKEN"))).toBe(true)
    await watch(["--allow-missing-secrets"], /deployed dep_\w+ \(version \d+\)/)
    const current = await api.app.request("/api/v1/deployments?limit=1", {
      headers: { authorization: `Bearer ${api.apiKeys.dev}` },
    })
    const [latest] = ((await current.json()) as { data: Deployment[] }).data
    expect(latest).toMatchObject({ current: true, missingSecrets: ["DEV_ONLY_TOKEN"] })
  }, 120_000)
})
