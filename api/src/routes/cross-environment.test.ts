import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { newId } from "@helmr/migrations/ids"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { HelmrClient } from "@helmr/sdk"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"

/**
 * The cross-environment matrix: dev owns a run of every kind, a schedule, a secret and a token;
 * every route called with staging's and prod's keys must neither show nor change any of it.
 */
let f: ApiFixture
const dev = { queued: "", running: "", waiting: "", schedule: "", instance: "", token: "" }
beforeAll(async () => {
  f = await startApiFixture("i4xenv", { deployTo: ["dev", "staging"] })
  const c = f.clients.dev
  const sql = f.api.db.sql
  dev.queued = (
    await c.runs.trigger(
      "review-pr",
      { prNumber: 9 },
      { idempotencyKey: "shared-key", tags: ["x"] },
    )
  ).id
  dev.running = (await c.runs.trigger("no-payload")).id
  await transitionRun(sql, dev.running, ["queued"], "starting")
  await transitionRun(sql, dev.running, ["starting"], "running")
  dev.waiting = (await c.runs.trigger("no-payload")).id
  await transitionRun(sql, dev.waiting, ["queued"], "starting")
  await transitionRun(sql, dev.waiting, ["starting"], "running")
  await transitionRun(sql, dev.waiting, ["running"], "waiting")
  dev.token = newId("tok")
  await sql`insert into waitpoints (id, environment_id, run_id, kind)
    values (${dev.token}, ${f.env("dev").id}, ${dev.waiting}, 'token')`
  const schedule = await c.schedules.create({
    deduplicationKey: "dev-schedule",
    task: "hourly-report",
    cron: "0 * * * *",
  })
  dev.schedule = schedule.id
  dev.instance = schedule.instanceId
  await c.secrets.set("DEV_SECRET", "dev-value")
})
afterAll(() => f.close())

/** Everything dev owns, in Postgres and Valkey, as comparable data. */
async function snapshotDev() {
  const sql = f.api.db.sql
  const envId = f.env("dev").id
  return {
    runs: await sql`select id, status, updated_at, cancel_requested_at, payload
      from runs where environment_id = ${envId} order by id`,
    events: await sql`select e.id, e.type from run_events e join runs r on r.id = e.run_id
      where r.environment_id = ${envId} order by e.id`,
    schedules: await sql`select s.*, i.version, i.active, i.next_fire_at, i.run_options
      from schedules s join schedule_instances i on i.schedule_id = s.id
      where i.environment_id = ${envId} order by s.id`,
    secrets: await sql`select name, ciphertext, updated_at from secrets
      where environment_id = ${envId} order by name`,
    waitpoints: await sql`select id, status, data from waitpoints where environment_id = ${envId}`,
    queue: await f.api.valkey.valkey.zrange(f.api.valkey.keys.runQueue, 0, -1, "WITHSCORES"),
    entries: await f.api.valkey.valkey.hgetall(f.api.valkey.keys.scheduleEntry),
  }
}

const expect404 = async (promise: Promise<unknown>) => {
  const error = await expectApiError(promise)
  expect(error.status).toBe(404)
  expect(error.code).toBe("not_found")
}

describe("cross-environment matrix", () => {
  for (const slug of ["staging", "prod"] as const) {
    test(`${slug}'s key neither sees nor changes dev's objects`, async () => {
      const other: HelmrClient = f.clients[slug]
      const before = await snapshotDev()
      const devRuns = [dev.queued, dev.running, dev.waiting]

      for (const id of devRuns) {
        await expect404(other.runs.retrieve(id))
        await expect404(other.runs.cancel(id))
        await expect404(other.runs.replay(id))
        await expect404(
          (async () => {
            for await (const _ of other.runs.events(id)) break
          })(),
        )
        const { sessionId } = await f.clients.dev.runs.retrieve(id)
        await expect404(
          (async () => {
            for await (const _ of other.streams.read(sessionId, "out")) break
          })(),
        )
      }
      const listed = await other.runs.list({ limit: 100 })
      expect(listed.data.filter((r) => devRuns.includes(r.id))).toEqual([])
      expect((await other.runs.list({ tag: ["x"] })).data).toEqual([])

      for (const key of [dev.schedule, "dev-schedule"]) {
        await expect404(other.schedules.retrieve(key))
        await expect404(other.schedules.update(key, { task: "hourly-report", cron: "5 * * * *" }))
        await expect404(other.schedules.activate(key))
        await expect404(other.schedules.deactivate(key))
        await expect404(other.schedules.del(key))
      }
      const schedules = await other.schedules.list({ limit: 100 })
      expect(schedules.data.filter((s) => s.id === dev.schedule)).toEqual([])

      expect((await other.secrets.list()).map((s) => s.name)).not.toContain("DEV_SECRET")
      await expect404(other.secrets.del("DEV_SECRET"))
      await expect404(other.tokens.complete(dev.token, { hijacked: true }))

      // Writes by name or key land in the caller's own environment, never in dev's.
      if (slug === "staging") {
        const own = await other.runs.trigger(
          "review-pr",
          { prNumber: 10 },
          { idempotencyKey: "shared-key" },
        )
        expect(own.created).toBe(true)
        expect(own.id).not.toBe(dev.queued)
        const conflict = await expectApiError(
          other.schedules.create({
            deduplicationKey: "dev-schedule",
            task: "hourly-report",
            cron: "30 * * * *",
          }),
        )
        expect(conflict.status).toBe(409)
      } else {
        // prod has no deployment: triggering dev's task is a 404, not dev's run.
        await expect404(
          other.runs.trigger("review-pr", { prNumber: 9 }, { idempotencyKey: "shared-key" }),
        )
      }
      await other.secrets.set("DEV_SECRET", `${slug}-value`)
      expect((await other.secrets.list()).map((s) => s.name)).toContain("DEV_SECRET")

      const after = await snapshotDev()
      // Staging's own trigger adds a queue entry of its own; dev's entries are untouched.
      const devQueue = (q: string[]) =>
        q.filter((_, i) => i % 2 === 0 && devRuns.includes(q[i]!)).join()
      expect(devQueue(after.queue)).toBe(devQueue(before.queue))
      expect(after.entries[dev.instance]).toBe(before.entries[dev.instance]!)
      expect({ ...after, queue: null, entries: null }).toEqual({
        ...before,
        queue: null,
        entries: null,
      })
    })
  }

  test("dev's key still sees all of it", async () => {
    expect((await f.clients.dev.runs.retrieve(dev.queued)).status).toBe("queued")
    expect((await f.clients.dev.schedules.retrieve("dev-schedule")).id).toBe(dev.schedule)
    expect((await f.clients.dev.secrets.list()).map((s) => s.name)).toEqual(["DEV_SECRET"])
    const done = await f.clients.dev.tokens.complete(dev.token, { ok: true })
    expect(done.data).toEqual({ ok: true })
  })
})
