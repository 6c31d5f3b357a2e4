import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { resolve } from "node:path"
import {
  insertTestDeployment,
  startTestApi,
  type TestApi,
  testManifest,
} from "../../src/testing.ts"
import { cliFor } from "./cli-harness.ts"

/** `helmr schedules …` and `helmr secrets …` through a real API. */
let api: TestApi
let url = ""
let helmr: ReturnType<typeof cliFor>

beforeAll(async () => {
  api = await startTestApi("h12sched")
  const dev = api.project.environments.find((e) => e.slug === "dev")!
  await insertTestDeployment(api.db.sql, {
    environmentId: dev.id,
    projectId: api.project.projectId,
    manifest: testManifest([
      { id: "plain" },
      { id: "nightly", kind: "scheduled", cron: { pattern: "0 2 * * *", timezone: "UTC" } },
    ]),
  })
  url = api.listen().url
  helmr = cliFor(api, url)
})
afterAll(() => api.close())

describe("helmr schedules", () => {
  test("create upserts by key; get, list, update, deactivate, activate, delete", async () => {
    const created = await helmr([
      "schedules",
      "create",
      "--key",
      "nightly-main",
      "--task",
      "nightly",
      "--cron",
      "30 2 * * *",
      "--timezone",
      "Europe/Paris",
      "--external-id",
      "main",
      "--tag",
      "cli",
    ])
    expect(created.code).toBe(0)
    expect(created.stderr).toContain("created schedule sched_")
    expect(created.stdout).toContain("cron:        30 2 * * * (Europe/Paris)")
    expect(created.stdout).toContain('run options: {"tags":["cli"]}')
    const again = await helmr([
      "schedules",
      "create",
      "-k",
      "nightly-main",
      "-t",
      "nightly",
      "-c",
      "30 2 * * *",
      "-z",
      "Europe/Paris",
      "--external-id",
      "main",
      "--tag",
      "cli",
      "--json",
    ])
    expect(again.stderr).toContain("updated schedule")
    const schedule = JSON.parse(again.stdout)
    expect(schedule).toMatchObject({
      deduplicationKey: "nightly-main",
      active: true,
      kind: "imperative",
    })

    const got = await helmr(["schedules", "get", "nightly-main"])
    expect(got.stdout).toContain(`id:          ${schedule.id}`)
    expect(got.stdout).toMatch(/upcoming:\s+\d{4}-/)
    const list = await helmr(["schedules", "list", "--task", "nightly"])
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID\s+TASK\s+CRON\s+TIMEZONE\s+ACTIVE\s+NEXT RUN\s+KIND\s+KEY$/,
    )
    expect(list.stdout).toContain("nightly-main")
    const listJson = JSON.parse((await helmr(["schedules", "list", "--json"])).stdout)
    expect(listJson.data).toHaveLength(1)

    const updated = await helmr([
      "schedules",
      "update",
      schedule.id,
      "--task",
      "nightly",
      "--cron",
      "0 3 * * *",
      "--json",
    ])
    expect(JSON.parse(updated.stdout)).toMatchObject({ cron: "0 3 * * *", timezone: "UTC" })

    const off = await helmr(["schedules", "deactivate", "nightly-main"])
    expect(off.stdout).toBe(`${schedule.id} inactive`)
    const on = await helmr(["schedules", "activate", "nightly-main", "--json"])
    expect(JSON.parse(on.stdout)).toMatchObject({ active: true, nextRun: expect.any(String) })

    const deleted = await helmr(["schedules", "delete", "nightly-main"])
    expect(deleted.stdout).toBe(`${schedule.id} deleted`)
    const gone = await helmr(["schedules", "get", "nightly-main"])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain("HTTP 404")
    expect((await helmr(["schedules", "list"])).stdout).toBe("no schedules")
  })

  test("bad input: missing flags are usage errors, API refusals name the field", async () => {
    const noKey = await helmr(["schedules", "create", "--task", "nightly", "--cron", "0 2 * * *"])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain("missing --key")
    const noCron = await helmr(["schedules", "update", "x", "--task", "nightly"])
    expect(noCron.code).toBe(2)
    const badCron = await helmr([
      "schedules",
      "create",
      "-k",
      "bad",
      "-t",
      "nightly",
      "-c",
      "0 0 30 2 *",
    ])
    expect(badCron.code).toBe(1)
    expect(badCron.stderr).toContain("cron:")
    const notScheduled = await helmr([
      "schedules",
      "create",
      "-k",
      "bad",
      "-t",
      "plain",
      "-c",
      "0 2 * * *",
    ])
    expect(notScheduled.code).toBe(1)
    expect(notScheduled.stderr).toContain("task:")
    expect((await helmr(["schedules", "frobnicate"])).code).toBe(2)
  })

  test("slots: the ledger when the server has it, else an error that says so", async () => {
    const s = JSON.parse(
      (
        await helmr([
          "schedules",
          "create",
          "-k",
          "ledger",
          "-t",
          "nightly",
          "-c",
          "0 2 * * *",
          "--json",
        ])
      ).stdout,
    )
    const probe = await fetch(`${url}/api/v1/schedules/${s.id}/slots`, {
      headers: { authorization: `Bearer ${api.apiKeys.dev}` },
    })
    const result = await helmr(["schedules", "slots", s.id])
    if (probe.status === 404) {
      expect(result.code).toBe(1)
      expect(result.stderr).toContain("this Helmr API has no slot ledger")
    } else {
      expect(probe.status).toBe(200)
      expect(result.code).toBe(0)
      expect(result.stdout).toBe("no slots recorded yet")
    }
  })
})

describe("helmr secrets", () => {
  const VALUE = "sk-very-secret-value-4711"

  test("set reads the value from stdin and never prints it; list shows names; delete", async () => {
    const set = await helmr(["secrets", "set", "OPENAI_API_KEY"], { stdin: `${VALUE}\n` })
    expect(set.code).toBe(0)
    expect(set.stdout).toBe("OPENAI_API_KEY set in dev")
    const json = await helmr(["secrets", "set", "OTHER", "--json"], { stdin: VALUE })
    expect(JSON.parse(json.stdout)).toMatchObject({ name: "OTHER" })
    const list = await helmr(["secrets", "list"])
    expect(list.stdout).toMatch(/^NAME\s+UPDATED\nOPENAI_API_KEY\s+\d{4}-/)
    const listJson = JSON.parse((await helmr(["secrets", "list", "--json"])).stdout)
    expect(listJson.data.map((s: { name: string }) => s.name).sort()).toEqual([
      "OPENAI_API_KEY",
      "OTHER",
    ])
    for (const out of [set, json, list]) expect(`${out.stdout}${out.stderr}`).not.toContain(VALUE)
    // The value really arrived: the row decrypts to it.
    const dev = api.project.environments.find((e) => e.slug === "dev")!
    const [row] = await api.db
      .sql`select 1 from secrets where environment_id = ${dev.id} and name = 'OPENAI_API_KEY'`
    expect(row).toBeDefined()

    const deleted = await helmr(["secrets", "delete", "OTHER"])
    expect(deleted.stdout).toBe("OTHER deleted from dev")
    const missing = await helmr(["secrets", "delete", "OTHER"])
    expect(missing.code).toBe(1)
    expect((await helmr(["secrets", "list", "--env", "staging"])).code).toBe(1)
    expect((await helmr(["secrets", "list"], { env: "staging" })).stdout).toBe(
      "no secrets in staging",
    )
  })

  test("empty stdin and bad names are refused before anything is written", async () => {
    const empty = await helmr(["secrets", "set", "EMPTY"], { stdin: "" })
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain("no value on stdin for EMPTY")
    const badName = await helmr(["secrets", "set", "bad name"], { stdin: "x" })
    expect(badName.code).toBe(2)
    expect(badName.stderr).toContain("'bad name' is not a secret name")
    expect((await helmr(["secrets", "list", "--json"])).stdout).not.toContain("EMPTY")
  })

  test("the real CLI reads a piped value and echoes nothing of it", async () => {
    const cli = resolve(import.meta.dir, "../../../sdk/src/cli/main.ts")
    const child = Bun.spawn([process.execPath, cli, "secrets", "set", "PIPED"], {
      env: { ...process.env, HELMR_API_URL: url, HELMR_API_KEY: api.apiKeys.dev! },
      stdin: new TextEncoder().encode(VALUE),
      stdout: "pipe",
      stderr: "pipe",
    })
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: "PIPED set in dev" })
    expect(`${stdout}${stderr}`).not.toContain(VALUE)
  })
})
