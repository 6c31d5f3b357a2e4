import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  insertTestDeployment,
  startTestApi,
  type TestApi,
  testManifest,
} from "../../src/testing.ts"
import { cliFor } from "./cli-harness.ts"

/** `helmr runs …` and `helmr whoami` through a real API (no runner: runs stay queued). */
let api: TestApi
let helmr: ReturnType<typeof cliFor>
let tmp = ""

beforeAll(async () => {
  api = await startTestApi("h12runs")
  const dev = api.project.environments.find((e) => e.slug === "dev")!
  await insertTestDeployment(api.db.sql, {
    environmentId: dev.id,
    projectId: api.project.projectId,
    manifest: testManifest([
      { id: "plain" },
      {
        id: "greet",
        payloadSchema: {
          type: "object",
          properties: { name: { type: "string" } },
          required: ["name"],
          additionalProperties: false,
        },
      },
    ]),
  })
  helmr = cliFor(api, api.listen().url)
  tmp = await mkdtemp(join(tmpdir(), "h12-runs-"))
})
afterAll(async () => {
  await api.close()
  await rm(tmp, { recursive: true, force: true })
})

describe("helmr whoami", () => {
  test("names the key's project and environment; --env must match it", async () => {
    const human = await helmr(["whoami"])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain("environment: dev (env_")
    expect(human.stdout).toContain(`project:     ${api.project.projectId}`)
    const json = await helmr(["whoami", "--json"], { env: "prod" })
    expect(JSON.parse(json.stdout)).toMatchObject({
      environment: { slug: "prod" },
      projectId: api.project.projectId,
    })
    const mismatch = await helmr(["whoami", "--env", "prod"])
    expect(mismatch.code).toBe(1)
    expect(mismatch.stderr).toContain("--env prod does not match HELMR_API_KEY")
  })

  test("a wrong key is a readable error, exit 1", async () => {
    const bad = await helmr(["whoami"], { env: "nope" })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toStartWith("helmr: error: HELMR_API_KEY is not set")
  })
})

describe("helmr runs", () => {
  test("trigger with a payload inline, from a file and from stdin; bad JSON is a usage error", async () => {
    const inline = await helmr(["runs", "trigger", "greet", "--payload", '{"name":"Ada"}'])
    expect(inline.code).toBe(0)
    expect(inline.stdout).toMatch(/^run_[0-9a-z]{26}$/)
    await Bun.write(join(tmp, "p.json"), '{"name":"Grace"}')
    const file = await helmr([
      "runs",
      "trigger",
      "greet",
      "--payload",
      `@${join(tmp, "p.json")}`,
      "--json",
    ])
    expect(JSON.parse(file.stdout)).toMatchObject({
      id: expect.stringMatching(/^run_/),
      created: true,
    })
    const stdin = await helmr(["runs", "trigger", "greet", "-p", "-", "--tag", "a,b"], {
      stdin: '{"name":"Linus"}\n',
    })
    expect(stdin.code).toBe(0)
    const got = await helmr(["runs", "get", stdin.stdout, "--json"])
    expect(JSON.parse(got.stdout)).toMatchObject({ payload: { name: "Linus" }, tags: ["a", "b"] })

    const bad = await helmr(["runs", "trigger", "greet", "--payload", "{name"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("the payload (--payload) is not JSON")
    const refused = await helmr(["runs", "trigger", "greet", "--payload", '{"name":1}'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("[validation_failed, HTTP 422]")
    expect(refused.stderr).toContain("payload.name:")
    const missing = await helmr(["runs", "trigger", "nope"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("HTTP 404")
  })

  test("an idempotency key gives the same run back", async () => {
    const args = ["runs", "trigger", "plain", "--idempotency-key", "once", "--json"]
    const first = JSON.parse((await helmr(args)).stdout)
    const second = await helmr(args)
    expect(JSON.parse(second.stdout)).toMatchObject({ id: first.id, created: false })
    expect(second.stderr).toContain("an existing run has this idempotency key")
  })

  test("list filters by task, status and tag; get shows one run", async () => {
    const id = (await helmr(["runs", "trigger", "plain", "--tag", "listed", "--delay", "1h"]))
      .stdout
    const table = await helmr(["runs", "list", "--task", "plain", "--tag", "listed"])
    expect(table.code).toBe(0)
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+TASK\s+CREATED\s+TAGS$/)
    expect(table.stdout).toContain(id)
    const json = JSON.parse(
      (await helmr(["runs", "list", "--status", "queued", "--json", "-n", "100"])).stdout,
    )
    expect(json.data.map((r: { id: string }) => r.id)).toContain(id)
    const none = await helmr(["runs", "list", "--status", "failed"])
    expect(none.stdout).toBe("no runs")
    const badLimit = await helmr(["runs", "list", "--limit", "0"])
    expect(badLimit.code).toBe(2)
    const badStatus = await helmr(["runs", "list", "--status", "bogus"])
    expect(badStatus.code).toBe(1)
    expect(badStatus.stderr).toContain("status")

    const got = await helmr(["runs", "get", id])
    expect(got.stdout).toContain(`id:          ${id}`)
    expect(got.stdout).toContain("status:      queued")
    expect(got.stdout).toContain("tags:        listed")
    const unknown = await helmr(["runs", "get", "run_0000000000zzzzzzzzzzzzzzzz"])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("not found")
    expect((await helmr(["runs", "get"])).code).toBe(2)
  })

  test("logs prints the events so far; cancel ends the run; logs --follow exits 3 for it", async () => {
    const id = (await helmr(["runs", "trigger", "plain"])).stdout
    const logs = await helmr(["runs", "logs", id])
    expect(logs.code).toBe(0)
    expect(logs.stdout).toMatch(/\[transition\] .*queued/)
    const canceled = await helmr(["runs", "cancel", id])
    expect(canceled.code).toBe(0)
    expect(canceled.stdout).toBe(`${id} canceled`)
    const followed = await helmr(["runs", "logs", id, "--follow", "--json"])
    expect(followed.code).toBe(3)
    const events = followed.stdout.split("\n").map((l) => JSON.parse(l))
    expect(events.map((e: { type: string }) => e.type)).toEqual(["transition", "transition"])
    expect(followed.stderr).toContain(`run ${id} canceled`)
    // Canceling a canceled run again is fine (idempotent), and --json prints the run.
    const again = await helmr(["runs", "cancel", id, "--json"])
    expect(JSON.parse(again.stdout)).toMatchObject({ id, status: "canceled" })
  })

  test("trigger --follow streams until the run ends", async () => {
    const controller = new AbortController()
    let runId = ""
    const following = helmr(["runs", "trigger", "plain", "--follow"], {
      signal: controller.signal,
      onLine: (line) => {
        const match = /triggered plain: (run_\w+)/.exec(line)
        if (match?.[1]) runId = match[1]
      },
    })
    while (!runId) await Bun.sleep(20)
    await helmr(["runs", "cancel", runId])
    const result = await following
    expect(result.code).toBe(3)
    expect(result.stdout).toContain("canceled")
  })

  test("replay makes a new run of the same task and payload", async () => {
    const id = (await helmr(["runs", "trigger", "greet", "--payload", '{"name":"Ada"}'])).stdout
    const replay = await helmr(["runs", "replay", id])
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/^run_/)
    expect(replay.stdout).not.toBe(id)
    const got = JSON.parse((await helmr(["runs", "get", replay.stdout, "--json"])).stdout)
    expect(got).toMatchObject({ replayOf: id, payload: { name: "Ada" }, taskId: "greet" })
  })

  test("unknown subcommands and flags are usage errors", async () => {
    expect((await helmr(["runs", "nope"])).code).toBe(2)
    const flag = await helmr(["runs", "list", "--bogus"])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("unknown option '--bogus'")
    expect((await helmr(["runs", "--help"])).stdout).toContain("helmr runs — list")
  })
})
