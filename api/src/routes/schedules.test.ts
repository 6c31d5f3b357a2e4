import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { newId } from "@helmr/migrations/ids"
import { readScheduleEntry } from "@helmr/migrations/valkey"
import type { Schedule } from "@helmr/sdk"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"

let f: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("i4sched", { deployTo: ["dev", "staging"] })
})
afterAll(() => f.close())

const version = async (instanceId: string) => {
  const [row] = await f.api.db.sql<{ version: string }[]>`
    select version from schedule_instances where id = ${instanceId}`
  return row ? Number(row.version) : null
}
const entry = (instanceId: string) =>
  readScheduleEntry(f.api.valkey.valkey, f.api.valkey.keys, instanceId)

function expectUpcoming(s: Schedule, minute: number, hourUtc?: number) {
  expect(s.upcoming.length).toBe(5)
  let previous = Date.now()
  for (const at of s.upcoming) {
    const date = new Date(at)
    expect(at).toBe(date.toISOString())
    expect(date.getTime()).toBeGreaterThan(previous)
    expect(date.getUTCMinutes()).toBe(minute)
    if (hourUtc !== undefined) expect(date.getUTCHours()).toBe(hourUtc)
    previous = date.getTime()
  }
  expect(s.nextRun).toBe(s.upcoming[0]!)
}

describe("imperative schedules", () => {
  test("create returns the schedule with upcoming fires and writes the Valkey entry", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "nightly-maintenance-main",
      task: "nightly-maintenance",
      externalId: "main",
      cron: "0 2 * * *",
      timezone: "UTC",
    })
    expect(s).toMatchObject({
      kind: "imperative",
      task: "nightly-maintenance",
      cron: "0 2 * * *",
      timezone: "UTC",
      deduplicationKey: "nightly-maintenance-main",
      externalId: "main",
      active: true,
      runOptions: {},
      lastRun: null,
    })
    expect(s.id).toMatch(/^sched_/)
    expectUpcoming(s, 0, 2)
    expect(await entry(s.instanceId)).toEqual({ version: "1", slot: new Date(s.nextRun!) })
  })

  test("accepts every run option the dispatcher honours and returns it", async () => {
    const runOptions = { tags: ["report"], maxAttempts: 3, maxDuration: 600, ttl: "10m" }
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "all-options",
      task: "hourly-report",
      cron: "20 * * * *",
      runOptions,
    })
    expect(s.runOptions).toEqual(runOptions)
    expect((await f.clients.dev.schedules.retrieve(s.id)).runOptions).toEqual(runOptions)
  })

  test("create is an upsert by deduplication key: the same body changes nothing", async () => {
    const body = {
      deduplicationKey: "upsert-key",
      task: "hourly-report",
      cron: "15 * * * *",
      runOptions: { tags: ["report"], maxAttempts: 2 },
    }
    const first = await f.clients.dev.schedules.create(body)
    const res = await fetch(`${f.url}/api/v1/schedules`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(200)
    const same = (await res.json()) as Schedule
    expect(same.id).toBe(first.id)
    expect(same.instanceId).toBe(first.instanceId)
    expect(await version(first.instanceId)).toBe(1)

    const changed = await f.clients.dev.schedules.create({ ...body, cron: "45 * * * *" })
    expect(changed.id).toBe(first.id)
    expectUpcoming(changed, 45)
    expect(await version(first.instanceId)).toBe(2)
    expect(await entry(first.instanceId)).toEqual({
      version: "2",
      slot: new Date(changed.nextRun!),
    })
    const rows = await f.api.db.sql`select 1 from schedules where deduplication_key = 'upsert-key'`
    expect(rows.length).toBe(1)
  })

  test("retrieve by id or deduplication key; list pages and filters", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "retrieve-me",
      task: "hourly-report",
      cron: "5 * * * *",
    })
    expect((await f.clients.dev.schedules.retrieve(s.id)).instanceId).toBe(s.instanceId)
    expect((await f.clients.dev.schedules.retrieve("retrieve-me")).id).toBe(s.id)
    expect((await expectApiError(f.clients.dev.schedules.retrieve("nope"))).status).toBe(404)

    for (let i = 0; i < 4; i++) {
      await f.clients.dev.schedules.create({
        deduplicationKey: `page-${i}`,
        task: "nightly-maintenance",
        cron: `${i} 3 * * *`,
      })
    }
    const [{ n } = { n: 0 }] = await f.api.db.sql<{ n: number }[]>`
      select count(*)::int as n from schedule_instances where environment_id = ${f.env("dev").id}`
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await f.clients.dev.schedules.list({ limit: 2, ...(cursor ? { cursor } : {}) })
      seen.push(...page.data.map((x) => x.id))
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    expect(seen.length).toBe(n)
    expect(new Set(seen).size).toBe(n)
    const hourly = await f.clients.dev.schedules.list({ task: "hourly-report", limit: 100 })
    expect(hourly.data.length).toBeGreaterThan(0)
    expect(hourly.data.every((x) => x.task === "hourly-report")).toBe(true)
    expect((await f.clients.dev.schedules.list({ kind: "declarative" })).data).toEqual([])
  })

  test("update replaces the definition; a new zone moves the fires", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "update-me",
      task: "nightly-maintenance",
      cron: "0 2 * * *",
      externalId: "x",
    })
    const updated = await f.clients.dev.schedules.update("update-me", {
      task: "nightly-maintenance",
      cron: "30 9 * * *",
      timezone: "Asia/Kolkata",
    })
    expect(updated).toMatchObject({ id: s.id, cron: "30 9 * * *", timezone: "Asia/Kolkata" })
    expect(updated.externalId).toBeNull()
    expectUpcoming(updated, 0, 4) // 09:30 in Kolkata (UTC+5:30) is 04:00 UTC
    expect(await version(s.instanceId)).toBe(2)
    expect(await entry(s.instanceId)).toEqual({ version: "2", slot: new Date(updated.nextRun!) })
  })

  test("deactivate stops firing, activate resumes, delete removes instance and logical schedule", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "toggle-me",
      task: "hourly-report",
      cron: "*/10 * * * *",
    })
    const off = await f.clients.dev.schedules.deactivate(s.id)
    expect(off).toMatchObject({ active: false, nextRun: null, upcoming: [] })
    expect(await entry(s.instanceId)).toBeNull()
    expect(await version(s.instanceId)).toBe(2)
    // Deactivating again is a no-op, not a new version.
    await f.clients.dev.schedules.deactivate(s.id)
    expect(await version(s.instanceId)).toBe(2)

    const on = await f.clients.dev.schedules.activate("toggle-me")
    expect(on.active).toBe(true)
    expect(on.upcoming.length).toBe(5)
    expect(await entry(s.instanceId)).toEqual({ version: "3", slot: new Date(on.nextRun!) })

    expect(await f.clients.dev.schedules.del(s.id)).toEqual({ id: s.id, deleted: true })
    expect(await entry(s.instanceId)).toBeNull()
    expect((await expectApiError(f.clients.dev.schedules.retrieve(s.id))).status).toBe(404)
    expect((await f.api.db.sql`select 1 from schedules where id = ${s.id}`).length).toBe(0)
    expect((await expectApiError(f.clients.dev.schedules.del(s.id))).status).toBe(404)
  })

  test("bad fields are 422 naming the field, and write nothing", async () => {
    const [{ before } = { before: 0 }] = await f.api.db.sql<{ before: number }[]>`
      select count(*)::int as before from schedules`
    const valid = { deduplicationKey: "bad-input", task: "hourly-report", cron: "0 * * * *" }
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, cron: "0 * * *" }, "cron"],
      [{ ...valid, cron: "61 * * * *" }, "cron"],
      [{ ...valid, cron: "" }, "cron"],
      [{ ...valid, cron: 5 }, "cron"],
      [{ ...valid, timezone: "Mars/Olympus" }, "timezone"],
      [{ ...valid, timezone: "" }, "timezone"],
      [{ ...valid, timezone: "+05:00" }, "timezone"],
      [{ ...valid, task: "no-such-task" }, "task"],
      [{ ...valid, task: "review-pr" }, "task"],
      [{ ...valid, task: "bad task" }, "task"],
      [{ ...valid, deduplicationKey: "bad key" }, "deduplicationKey"],
      [{ ...valid, deduplicationKey: "x".repeat(129) }, "deduplicationKey"],
      [{ ...valid, deduplicationKey: undefined }, "deduplicationKey"],
      [{ ...valid, externalId: "" }, "externalId"],
      [{ ...valid, externalId: "x".repeat(257) }, "externalId"],
      [{ ...valid, runOptions: { maxAttempts: 0 } }, "runOptions.maxAttempts"],
      [{ ...valid, runOptions: { tags: ["a b"] } }, "runOptions.tags[0]"],
      [{ ...valid, runOptions: { payload: {} } }, "runOptions"],
      [{ ...valid, runOptions: { ttl: "soon" } }, "runOptions.ttl"],
      [{ ...valid, runOptions: { ttl: "400d" } }, "runOptions.ttl"],
      [{ ...valid, runOptions: { maxDuration: 1.5 } }, "runOptions.maxDuration"],
      [{ ...valid, payload: { x: 1 } }, "(body)"],
    ]
    for (const [body, path] of cases) {
      const res = await fetch(`${f.url}/api/v1/schedules`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${f.api.apiKeys.dev}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(422)
      const error = (await res.json()) as { error: { code: string; details: { path: string }[] } }
      expect(error.error.code).toBe("validation_failed")
      expect(error.error.details.map((d) => d.path)).toContain(path)
    }
    const s = await f.clients.dev.schedules.create(valid)
    const badUpdate = await expectApiError(
      f.clients.dev.schedules.update(s.id, { task: "hourly-report", cron: "* * *" }),
    )
    expect(badUpdate.status).toBe(422)
    expect(badUpdate.details).toEqual([{ path: "cron", message: expect.any(String) }])
    const badZone = await expectApiError(
      f.clients.dev.schedules.update(s.id, {
        task: "hourly-report",
        cron: "0 * * * *",
        timezone: "Nowhere/Land",
      }),
    )
    expect(badZone.details).toEqual([{ path: "timezone", message: expect.any(String) }])
    const updateCases: [Record<string, unknown>, string][] = [
      [{ cron: "0 * * * *" }, "task"],
      [{ task: "hourly-report" }, "cron"],
      [{ task: "review-pr", cron: "0 * * * *" }, "task"],
      [{ task: "hourly-report", cron: "0 * * * *", externalId: 5 }, "externalId"],
      [{ task: "hourly-report", cron: "0 * * * *", timezone: 1 }, "timezone"],
      [{ task: "hourly-report", cron: "0 * * * *", runOptions: { tags: "x" } }, "runOptions.tags"],
      [{ task: "hourly-report", cron: "0 * * * *", deduplicationKey: "other" }, "(body)"],
    ]
    for (const [body, path] of updateCases) {
      const error = await expectApiError(f.clients.dev.schedules.update(s.id, body as never))
      expect(error.status).toBe(422)
      expect((error.details as { path: string }[]).map((d) => d.path)).toContain(path)
    }
    // activate / deactivate take no body fields.
    const res = await fetch(`${f.url}/api/v1/schedules/${s.id}/deactivate`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "content-type": "application/json" },
      body: JSON.stringify({ active: false }),
    })
    expect(res.status).toBe(422)
    const unchanged = await f.clients.dev.schedules.retrieve(s.id)
    expect(unchanged).toMatchObject({ cron: "0 * * * *", active: true, externalId: null })
    expect(await version(s.instanceId)).toBe(1)
    const [{ after } = { after: 0 }] = await f.api.db.sql<{ after: number }[]>`
      select count(*)::int as after from schedules`
    expect(after).toBe(before + 1)
  })

  test("one logical schedule, one instance per environment; shared definitions are not changed from another environment", async () => {
    const body = { deduplicationKey: "shared-key", task: "hourly-report", cron: "0 * * * *" }
    const dev = await f.clients.dev.schedules.create(body)
    const staging = await f.clients.staging.schedules.create(body)
    expect(staging.id).toBe(dev.id)
    expect(staging.instanceId).not.toBe(dev.instanceId)

    const error = await expectApiError(
      f.clients.staging.schedules.create({ ...body, cron: "30 * * * *" }),
    )
    expect(error.status).toBe(409)
    expect((await f.clients.dev.schedules.retrieve(dev.id)).cron).toBe("0 * * * *")
    expect(await version(dev.instanceId)).toBe(1)

    // Run options are per environment: changing them in staging leaves dev alone.
    const tagged = await f.clients.staging.schedules.create({
      ...body,
      runOptions: { tags: ["s"] },
    })
    expect(tagged.runOptions).toEqual({ tags: ["s"] })
    expect(tagged.nextRun).toBe(staging.nextRun)
    expect((await f.clients.dev.schedules.retrieve(dev.id)).runOptions).toEqual({})

    // Deleting staging's instance keeps the logical schedule for dev.
    await f.clients.staging.schedules.del("shared-key")
    expect((await f.clients.dev.schedules.retrieve("shared-key")).id).toBe(dev.id)
    expect(await entry(dev.instanceId)).not.toBeNull()
  })

  test("timezones lists IANA names", async () => {
    const zones = await f.clients.dev.schedules.timezones()
    expect(zones).toContain("UTC")
    expect(zones).toContain("Europe/Paris")
    expect(zones).toContain("Asia/Kolkata")
  })
})

describe("declarative schedules", () => {
  test("are visible but every write is refused with declarative_schedule", async () => {
    const sql = f.api.db.sql
    const scheduleId = newId("sched")
    const instanceId = newId("schedi")
    const next = new Date(Date.now() + 3_600_000)
    await sql`insert into schedules (id, project_id, kind, task_id, cron, timezone, deduplication_key)
      values (${scheduleId}, ${f.api.project.projectId}, 'declarative', 'nightly-maintenance',
        '0 2 * * *', 'UTC', 'declared-nightly')`
    await sql`insert into schedule_instances (id, schedule_id, environment_id, deployment_id, next_fire_at)
      values (${instanceId}, ${scheduleId}, ${f.env("dev").id}, ${f.deploymentIds.dev!}, ${next})`

    const seen = await f.clients.dev.schedules.retrieve("declared-nightly")
    expect(seen).toMatchObject({ id: scheduleId, kind: "declarative", active: true })
    expect(seen.upcoming.length).toBe(5)
    const listed = await f.clients.dev.schedules.list({ kind: "declarative" })
    expect(listed.data.map((s) => s.id)).toEqual([scheduleId])

    const writes = [
      () =>
        f.clients.dev.schedules.update(scheduleId, {
          task: "nightly-maintenance",
          cron: "0 3 * * *",
        }),
      () => f.clients.dev.schedules.activate(scheduleId),
      () => f.clients.dev.schedules.deactivate(scheduleId),
      () => f.clients.dev.schedules.del(scheduleId),
      () =>
        f.clients.dev.schedules.create({
          deduplicationKey: "declared-nightly",
          task: "nightly-maintenance",
          cron: "0 3 * * *",
        }),
    ]
    for (const write of writes) {
      const error = await expectApiError(write())
      expect(error.status).toBe(409)
      expect(error.code).toBe("declarative_schedule")
    }
    const after = await f.clients.dev.schedules.retrieve(scheduleId)
    expect(after).toMatchObject({ cron: "0 2 * * *", active: true })
    expect(await version(instanceId)).toBe(1)
  })
})
