import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { grantOperator } from "@helmr/migrations/operators"
import { insertRun, transitionRun } from "@helmr/migrations/queries/runs"
import { type ApiFixture, FIXTURE_TASKS, startApiFixture } from "../test-fixtures.ts"
import { insertTestDeployment } from "../testing.ts"

// The pages' reads and their answers to bad input, through the real app on a real database.

let f: ApiFixture
let cookie = ""
let csrf = ""
const base = "/p/test/dev"

const get = (path: string) => f.api.app.request(`http://dash.test${path}`, { headers: { cookie } })
const post = (path: string, fields: Record<string, string>) =>
  f.api.app.request(`http://dash.test${path}`, {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams({ _csrf: csrf, ...fields }),
  })

beforeAll(async () => {
  f = await startApiFixture("h13pages")
  await grantOperator(f.api.db.sql, {
    email: "ops@example.com",
    password: "correct horse battery staple",
    projectSlug: "test",
  })
  const form = await f.api.app.request("http://dash.test/sign-in")
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ""
  const pre = form.headers.getSetCookie()[0]?.split(";")[0] ?? ""
  const signIn = await f.api.app.request("http://dash.test/sign-in", {
    method: "POST",
    headers: { cookie: pre },
    body: new URLSearchParams({
      _csrf: token,
      email: "ops@example.com",
      password: "correct horse battery staple",
    }),
  })
  cookie = signIn.headers.getSetCookie()[0]?.split(";")[0] ?? ""
  csrf =
    /name="csrf-token" content="([^"]+)"/.exec(await (await get(`${base}/runs`)).text())?.[1] ?? ""
}, 60_000)
afterAll(() => f?.close())

describe("runs list", () => {
  test("filters by status, task and tag, and pages newest first", async () => {
    const dev = f.env("dev").id
    const ids: string[] = []
    for (let i = 0; i < 30; i++) {
      const { run } = await insertRun(f.api.db.sql, {
        environmentId: dev,
        deploymentId: f.deploymentIds.dev!,
        taskId: i % 2 ? "review-pr" : "no-payload",
        payload: null,
        tags: i === 7 ? ["repo:web"] : [],
      })
      ids.push(run.id)
    }
    await transitionRun(f.api.db.sql, ids[3]!, ["queued"], "canceled")
    const first = await (await get(`${base}/runs`)).text()
    expect(first).toContain(ids[29]!)
    expect(first).not.toContain(ids[0]!)
    const older = /href="([^"]+)">Older runs/.exec(first)?.[1]?.replace(/&amp;/g, "&") ?? ""
    const second = await (await get(older)).text()
    expect(second).toContain(ids[0]!)
    expect(second).not.toContain(ids[29]!)

    const canceled = await (await get(`${base}/runs?status=canceled`)).text()
    expect(canceled).toContain(ids[3]!)
    expect(canceled).not.toContain(ids[5]!)
    const tagged = await (await get(`${base}/runs?tag=repo:web`)).text()
    expect(tagged).toContain(ids[7]!)
    expect(tagged).not.toContain(ids[9]!)
    const task = await (await get(`${base}/runs?task=no-payload`)).text()
    expect(task).toContain(ids[0]!)
    expect(task).not.toContain(ids[1]!)
    const future = await (await get(`${base}/runs?from=2999-01-01T00:00`)).text()
    expect(future).toContain("No run matches these filters.")
  })

  test("filters by schedule and by a time range (from inclusive, to exclusive)", async () => {
    const dev = f.env("dev").id
    const insert = async (scheduleId: string) =>
      (
        await insertRun(f.api.db.sql, {
          environmentId: dev,
          deploymentId: f.deploymentIds.dev!,
          taskId: "no-payload",
          payload: null,
          scheduleId,
        })
      ).run
    const early = await insert("sched_0000000000000000000000000a")
    // A cut on a whole second after the first run, passed before the second one is made.
    const cut = new Date(Math.ceil((early.createdAt.getTime() + 1) / 1000) * 1000)
    while (Date.now() < cut.getTime() + 50) await Bun.sleep(20)
    const late = await insert("sched_0000000000000000000000000b")
    expect(late.createdAt.getTime()).toBeGreaterThanOrEqual(cut.getTime())
    const at = cut.toISOString().slice(0, 19) // the form's `YYYY-MM-DDTHH:MM:SS`, UTC

    const bySchedule = await get(`${base}/runs?schedule=sched_0000000000000000000000000a`)
    expect(bySchedule.status).toBe(200)
    const scheduled = await bySchedule.text()
    expect(scheduled).toContain(early.id)
    expect(scheduled).not.toContain(late.id)
    expect(scheduled).toContain('value="sched_0000000000000000000000000a"')
    const unknown = await (await get(`${base}/runs?schedule=sched_nope`)).text()
    expect(unknown).toContain("No run matches these filters.")

    const before = await (await get(`${base}/runs?to=${at}`)).text()
    expect(before).toContain(early.id)
    expect(before).not.toContain(late.id)
    const after = await (await get(`${base}/runs?from=${at}`)).text()
    expect(after).toContain(late.id)
    expect(after).not.toContain(early.id)
    const past = await (await get(`${base}/runs?to=2000-01-01T00:00`)).text()
    expect(past).toContain("No run matches these filters.")
    const both = await (
      await get(
        `${base}/runs?schedule=sched_0000000000000000000000000b&from=2000-01-01T00:00&to=${at}`,
      )
    ).text()
    expect(both).toContain("No run matches these filters.")
  })

  test.each([
    ["status=bogus", "status[0]"],
    ["from=yesterday", "from"],
    ["to=2026-13-01T00:00", "to"],
    ["to=tomorrow", "to"],
    [`schedule=${"s".repeat(129)}`, "schedule"],
    ["task=has%20space", "task"],
  ])("a bad filter (%s) is a 422 naming %s", async (query, path) => {
    const res = await get(`${base}/runs?${query}`)
    expect(res.status).toBe(422)
    expect(await res.text()).toContain(`<code>${path}</code>`)
  })
})

describe("forms answer bad input with the field", () => {
  test("trigger: malformed JSON and a payload the schema refuses; nothing is created", async () => {
    const before = await f.api.db.sql`select id from runs`
    const bad = await post(`${base}/tasks/review-pr/trigger`, { payload: "{ nope" })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain("The payload is not JSON")
    const wrong = await post(`${base}/tasks/review-pr/trigger`, { payload: '{"prNumber":-1}' })
    expect(wrong.status).toBe(422)
    expect(await wrong.text()).toContain("<code>payload.prNumber</code>")
    const unknown = await post(`${base}/tasks/ghost/trigger`, { payload: "" })
    expect(unknown.status).toBe(422)
    expect(await unknown.text()).toContain("task &#39;ghost&#39; not found")
    expect(await f.api.db.sql`select id from runs`).toHaveLength(before.length)
  })

  test("the payload check endpoint uses the task's schema", async () => {
    const check = (payload: string) =>
      f.api.app.request(`http://dash.test${base}/tasks/review-pr/check-payload`, {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
        body: JSON.stringify({ payload }),
      })
    expect(await (await check('{"prNumber": 3}')).json()).toEqual({ ok: true, issues: [] })
    expect(await (await check('{"prNumber": "3"}')).json()).toMatchObject({
      ok: false,
      issues: [{ path: "payload.prNumber" }],
    })
    expect(await (await check("nope")).json()).toMatchObject({ ok: false })
  })

  test("schedule: a bad cron, zone or task names the field and writes nothing", async () => {
    const create = (fields: Record<string, string>) =>
      post(`${base}/schedules`, {
        task: "hourly-report",
        cron: "0 * * * *",
        timezone: "UTC",
        deduplicationKey: "h13-form",
        ...fields,
      })
    const cron = await create({ cron: "0 * * *" })
    expect(cron.status).toBe(422)
    expect(await cron.text()).toContain("must have 5 fields")
    const zone = await create({ timezone: "Mars/Olympus" })
    expect(zone.status).toBe(422)
    expect(await zone.text()).toContain("Mars/Olympus")
    const task = await create({ task: "review-pr" })
    expect(task.status).toBe(422)
    expect(await task.text()).toContain("is not a scheduled task")
    const key = await create({ deduplicationKey: "has space" })
    expect(key.status).toBe(422)
    expect(await key.text()).toContain("<code>deduplicationKey</code>")
    expect(await f.api.db.sql`select id from schedules where kind = 'imperative'`).toHaveLength(0)
  })

  test("schedule preview: words, fires in zone and UTC, or the error", async () => {
    const ok = await get(`${base}/schedules/preview?cron=0+9+*+*+1&timezone=Asia/Tokyo`)
    const body = (await ok.json()) as { description: string; upcoming: { local: string }[] }
    expect(body.description).toBe("At 09:00, only on Monday")
    expect(body.upcoming).toHaveLength(5)
    expect(body.upcoming[0]?.local).toEndWith("09:00:00 GMT+9")
    const bad = await get(`${base}/schedules/preview?cron=99+*+*+*+*`)
    expect(await bad.json()).toMatchObject({ field: "cron" })
  })

  test("secret: a bad name names the field", async () => {
    const res = await post(`${base}/secrets`, { name: "1-bad", value: "x" })
    expect(res.status).toBe(422)
    expect(await res.text()).toContain("<code>name</code>")
    expect(await f.api.db.sql`select name from secrets`).toHaveLength(0)
  })

  test("replay makes a new run of the same task and payload, pointing back", async () => {
    const { run } = await insertRun(f.api.db.sql, {
      environmentId: f.env("dev").id,
      deploymentId: f.deploymentIds.dev!,
      taskId: "review-pr",
      payload: { prNumber: 7 },
      tags: ["replay-me"],
    })
    const res = await post(`${base}/runs/${run.id}/replay`, {})
    expect(res.status).toBe(303)
    const newId = /\/runs\/(run_[0-9a-z]+)/.exec(res.headers.get("location") ?? "")?.[1]
    const [replay] = await f.api.db.sql<{ replayOf: string; payload: unknown; tags: string[] }[]>`
      select replay_of, payload, tags from runs where id = ${newId ?? ""}`
    expect(replay).toEqual({ replayOf: run.id, payload: { prNumber: 7 }, tags: ["replay-me"] })
  })

  test("unknown ids are 404 pages", async () => {
    for (const path of [
      `${base}/runs/run_nope`,
      `${base}/schedules/sched_nope`,
      `${base}/deployments/dep_nope`,
    ]) {
      const res = await get(path)
      expect(res.status).toBe(404)
      expect(await res.text()).toContain("<h1>Not found</h1>")
    }
    expect((await post(`${base}/keys/key_nope/revoke`, {})).status).toBe(404)
  })
})

describe("deployment page", () => {
  test("shows the manifest and the deployment's build log", async () => {
    const id = f.deploymentIds.dev!
    await f.api.db.sql`update deployments set build_status = 'failed', build_attempts = 2,
      build_error = ${f.api.db.sql.json({ message: "exit code 1", step: "[2/2] RUN false" })}
      where id = ${id}`
    const lines = [
      "sandbox default: image default",
      "[2/2] RUN false: failed",
      "build failed: exit code 1",
    ]
    for (const message of lines) {
      await f.api.db
        .sql`insert into deployment_build_events (deployment_id, attempt, level, message)
        values (${id}, 2, 'info', ${message})`
    }
    await f.api.db.sql`insert into deployment_build_events (deployment_id, attempt, level, message)
      values (${id}, 1, 'info', 'an earlier claim')`
    const html = await (await get(`${base}/deployments/${id}`)).text()
    expect(html).toContain("nightly-maintenance")
    expect(html).toContain("0 2 * * *")
    expect(html).toContain("FROM helmr-local/bun:1.4.5")
    expect(html).toContain(">failed</span>")
    expect(html).toContain("[2/2] RUN false</span>: exit code 1")
    for (const line of lines) expect(html).toContain(line)
    expect(html).not.toContain("an earlier claim")
    await f.api.db.sql`update deployments set build_status = 'ready', build_error = null
      where id = ${id}`
    expect(await (await get(`${base}/deployments/${id}`)).text()).toContain(">ready</span>")
  })

  test("promotion names missing secrets and a build that is not ready; the box allows them", async () => {
    const manifest = structuredClone(FIXTURE_TASKS)
    manifest.tasks[0]!.secrets = [{ name: "PAGES_TOKEN", env: "PAGES_TOKEN" }]
    const id = await insertTestDeployment(f.api.db.sql, {
      environmentId: f.env("dev").id,
      projectId: f.api.project.projectId,
      manifest,
      promote: false,
    })
    const confirm = await (await get(`${base}/deployments/${id}/promote`)).text()
    expect(confirm).toContain("Its images are built.")
    expect(confirm).toContain("PAGES_TOKEN")
    expect(confirm).toContain('name="allowMissingSecrets"')
    const refused = await post(`${base}/deployments/${id}/promote`, {})
    expect(refused.status).toBe(409)
    expect(await refused.text()).toContain(
      "declares secret not set in environment dev: PAGES_TOKEN",
    )

    await f.api.db.sql`update deployments set build_status = 'building' where id = ${id}`
    expect(await (await get(`${base}/deployments/${id}/promote`)).text()).toContain(
      "Its build is <strong>building</strong>",
    )
    const building = await post(`${base}/deployments/${id}/promote`, {
      allowMissingSecrets: "true",
    })
    expect(building.status).toBe(409)
    expect(await building.text()).toContain("its build is building")

    await f.api.db.sql`update deployments set build_status = 'ready' where id = ${id}`
    const allowed = await post(`${base}/deployments/${id}/promote`, { allowMissingSecrets: "true" })
    expect(allowed.status).toBe(303)
    // The fixture's deployment is current again for the tests below.
    expect((await post(`${base}/deployments/${f.deploymentIds.dev}/promote`, {})).status).toBe(303)
  })

  test("promoting the current deployment again changes nothing", async () => {
    // The fixture's deployment was made current without reconciling its schedule: the first
    // promotion creates it, the second changes nothing.
    expect((await post(`${base}/deployments/${f.deploymentIds.dev}/promote`, {})).status).toBe(303)
    const res = await post(`${base}/deployments/${f.deploymentIds.dev}/promote`, {})
    expect(res.status).toBe(303)
    const flash = res.headers.getSetCookie().find((c) => c.startsWith("helmr_flash="))
    const page = await (
      await f.api.app.request(`http://dash.test${res.headers.get("location")}`, {
        headers: { cookie: `${cookie}; ${flash?.split(";")[0]}` },
      })
    ).text()
    expect(page).toContain("was already current; nothing changed.")
  })
})
