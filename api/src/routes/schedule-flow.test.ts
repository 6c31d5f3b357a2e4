import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { insertRun, transitionRun } from "@helmr/migrations/queries/runs"
import type { RunStatus } from "@helmr/migrations/rows"
import type { Schedule, ScheduleSlotList } from "@helmr/sdk/contract"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"
import { insertTestDeployment, testManifest } from "../testing.ts"

/**
 * Schedule flow-control options through the API (create, update, retrieve, validation), the
 * slot history route, and how a schedule paused by failures resumes (imperative: activate;
 * declarative: activate or a promotion). The dispatcher's side is in dispatcher/test.
 */

let f: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("h11aflowapi", { deployTo: ["dev", "staging"] })
})
afterAll(() => f.close())

const sql = () => f.api.db.sql
const call = async (env: string, method: string, path: string, body?: unknown) =>
  fetch(`${f.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${f.api.apiKeys[env]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

/** A scheduled run of the instance that ends with `status`, as the runner would end it. */
async function endScheduledRun(instanceId: string, slot: Date, status: RunStatus) {
  const [inst] = await sql()<{ environmentId: string; scheduleId: string }[]>`
    select environment_id, schedule_id from schedule_instances where id = ${instanceId}`
  const [env] = await sql()<{ currentDeploymentId: string }[]>`
    select current_deployment_id from environments where id = ${inst?.environmentId ?? ""}`
  const { run } = await insertRun(sql(), {
    environmentId: inst?.environmentId ?? "",
    deploymentId: env?.currentDeploymentId ?? "",
    taskId: "hourly-report",
    payload: null,
    scheduleId: inst?.scheduleId ?? null,
    scheduleInstanceId: instanceId,
    slotAt: slot,
    idempotencyKey: `sched:${instanceId}:${slot.toISOString()}`,
  })
  await transitionRun(sql(), run.id, ["queued"], "starting")
  await transitionRun(sql(), run.id, ["starting"], "running")
  const ended = await transitionRun(sql(), run.id, ["running"], status)
  if (!ended) throw new Error(`run ${run.id} did not end ${status}`)
  return run.id
}

describe("schedule options", () => {
  test("create carries overlap, catchupWindow, pauseAfterFailures and run options; retrieve shows them", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-opts",
      task: "hourly-report",
      cron: "*/5 * * * *",
      overlap: "bufferOne",
      catchupWindow: "1h30m",
      pauseAfterFailures: 3,
      runOptions: { tags: ["flow"], maxAttempts: 2, ttl: "10m", maxDuration: 120 },
    })
    expect(s).toMatchObject({
      overlap: "bufferOne",
      catchupWindow: "1h30m",
      pauseAfterFailures: 3,
      inactiveReason: null,
      failures: { consecutive: 0, runIds: [] },
      counters: { fired: 0, failed: 0, skipped: { missed: 0, overlap: 0, catchup_window: 0 } },
      lastRunId: null,
      lastRunStatus: null,
      runOptions: { tags: ["flow"], maxAttempts: 2, ttl: "10m", maxDuration: 120 },
    })
    const [row] = await sql()`select overlap, catchup_window_ms::int as ms, pause_after_failures
      from schedule_instances where id = ${s.instanceId}`
    expect(row).toEqual({ overlap: "bufferOne", ms: 5_400_000, pauseAfterFailures: 3 })
    expect(await f.clients.dev.schedules.retrieve("flow-opts")).toMatchObject({
      overlap: "bufferOne",
      catchupWindow: "1h30m",
    })
    // Seconds are accepted too and shown as a duration.
    const again = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-opts",
      task: "hourly-report",
      cron: "*/5 * * * *",
      catchupWindow: 90,
    })
    expect(again).toMatchObject({
      overlap: "allow",
      catchupWindow: "1m30s",
      pauseAfterFailures: null,
    })
  })

  test("update changes the policy and keeps the pending slot; an identical write writes nothing", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-update",
      task: "hourly-report",
      cron: "0 * * * *",
    })
    const body = { task: "hourly-report", cron: "0 * * * *", overlap: "skip" as const }
    const updated = await f.clients.dev.schedules.update(s.id, body)
    expect(updated).toMatchObject({ overlap: "skip", nextRun: s.nextRun })
    const [v1] = await sql()`select version from schedule_instances where id = ${s.instanceId}`
    await f.clients.dev.schedules.update(s.id, body)
    const [v2] = await sql()`select version from schedule_instances where id = ${s.instanceId}`
    expect(v2).toEqual(v1 as never)
  })

  const bad: [string, Record<string, unknown>, string][] = [
    ["overlap", { overlap: "sometimes" }, "overlap"],
    ["catchupWindow text", { catchupWindow: "5 minutes" }, "catchupWindow"],
    ["catchupWindow zero", { catchupWindow: 0 }, "catchupWindow"],
    ["catchupWindow under a second", { catchupWindow: "500ms" }, "catchupWindow"],
    ["catchupWindow over a year", { catchupWindow: "400d" }, "catchupWindow"],
    ["pauseAfterFailures zero", { pauseAfterFailures: 0 }, "pauseAfterFailures"],
    ["pauseAfterFailures fraction", { pauseAfterFailures: 1.5 }, "pauseAfterFailures"],
    ["runOptions.ttl", { runOptions: { ttl: "soon" } }, "runOptions.ttl"],
    ["runOptions.maxDuration", { runOptions: { maxDuration: -1 } }, "runOptions.maxDuration"],
    ["runOptions unknown key", { runOptions: { priority: 1 } }, "runOptions"],
  ]
  for (const [name, extra, path] of bad) {
    test(`bad ${name}: 422 naming ${path}, nothing written`, async () => {
      const key = `flow-bad-${name.replace(/[^a-z]/gi, "")}`
      const err = await expectApiError(
        f.clients.dev.schedules.create({
          deduplicationKey: key,
          task: "hourly-report",
          cron: "0 * * * *",
          ...extra,
        } as never),
      )
      expect(err.status).toBe(422)
      const paths = (err.details as { path: string }[]).map((d) => d.path)
      expect(paths.some((p) => p.startsWith(path))).toBe(true)
      const [found] = await sql()`select 1 from schedules where deduplication_key = ${key}`
      expect(found).toBeUndefined()
    })
  }
})

describe("slot history", () => {
  let s: Schedule
  const T = Date.parse("2026-06-01T10:00:00Z")
  const MIN = 60_000

  beforeAll(async () => {
    s = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-slots",
      task: "hourly-report",
      cron: "* * * * *",
    })
    const fired = await endScheduledRun(s.instanceId, new Date(T), "succeeded")
    // As the dispatcher records them: a fired slot, a missed range, an overlap skip, a failure.
    await sql()`insert into schedule_slots (instance_id, slot_at, outcome, reason, run_id,
        attempts, error, last_slot_at, slot_count, recorded_at) values
      (${s.instanceId}, ${new Date(T)}, 'fired', null, ${fired}, 1, null, null, 1, ${new Date(T + 120)}),
      (${s.instanceId}, ${new Date(T + MIN)}, 'skipped', 'missed', null, 0, null,
        ${new Date(T + 4 * MIN)}, 4, ${new Date(T + 4 * MIN + 500)}),
      (${s.instanceId}, ${new Date(T + 5 * MIN)}, 'skipped', 'overlap', null, 0, null, null, 1,
        ${new Date(T + 5 * MIN + 30)}),
      (${s.instanceId}, ${new Date(T + 6 * MIN)}, 'failed', null, null, 5, 'no current deployment',
        null, 1, ${new Date(T + 7 * MIN)})`
  })

  test("newest first, with reason, run and its status, lateness; ranges as one entry", async () => {
    const page = await f.clients.dev.schedules.slots(s.id)
    expect(page.nextCursor).toBeNull()
    expect(page.data).toEqual([
      {
        slotAt: new Date(T + 6 * MIN).toISOString(),
        lastSlotAt: null,
        slotCount: 1,
        outcome: "failed",
        reason: null,
        runId: null,
        runStatus: null,
        latenessMs: MIN,
        recordedAt: new Date(T + 7 * MIN).toISOString(),
        attempts: 5,
        error: "no current deployment",
      },
      expect.objectContaining({ outcome: "skipped", reason: "overlap", latenessMs: 30 }),
      expect.objectContaining({
        slotAt: new Date(T + MIN).toISOString(),
        lastSlotAt: new Date(T + 4 * MIN).toISOString(),
        slotCount: 4,
        outcome: "skipped",
        reason: "missed",
      }),
      expect.objectContaining({
        outcome: "fired",
        runStatus: "succeeded",
        latenessMs: 120,
        attempts: 1,
      }),
    ])
    expect(page.data[3]?.runId).toMatch(/^run_/)
  })

  test("cursor paging and the outcome filter", async () => {
    const first = await f.clients.dev.schedules.slots("flow-slots", { limit: 3 })
    expect(first.data.map((d) => d.outcome)).toEqual(["failed", "skipped", "skipped"])
    expect(first.nextCursor).not.toBeNull()
    const second = await f.clients.dev.schedules.slots("flow-slots", {
      limit: 3,
      cursor: first.nextCursor ?? "",
    })
    expect(second.data.map((d) => d.outcome)).toEqual(["fired"])
    expect(second.nextCursor).toBeNull()
    const skipped = await f.clients.dev.schedules.slots(s.id, { outcome: "skipped" })
    expect(skipped.data.map((d) => d.reason)).toEqual(["overlap", "missed"])
  })

  test("retrieve carries the last run and its status", async () => {
    const view = await f.clients.dev.schedules.retrieve(s.id)
    expect(view.lastRunStatus).toBe("succeeded")
    expect(view.lastRunId).toMatch(/^run_/)
  })

  const badQueries: [string, string][] = [
    ["limit=0", "limit"],
    ["limit=abc", "limit"],
    ["outcome=lost", "outcome"],
    ["cursor=not-a-cursor", "cursor"],
    ["sort=asc", "sort"],
  ]
  for (const [query, field] of badQueries) {
    test(`?${query}: 422 naming ${field}`, async () => {
      const res = await call("dev", "GET", `/schedules/${s.id}/slots?${query}`)
      expect(res.status).toBe(422)
      const body = (await res.json()) as { error: { details: { path: string; message: string }[] } }
      // A known field is the path; an unknown one is named in the message.
      expect(body.error.details.some((d) => d.path === field || d.message.includes(field))).toBe(
        true,
      )
    })
  }

  test("a cursor of another schedule's slots is refused", async () => {
    const other = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-slots-other",
      task: "hourly-report",
      cron: "* * * * *",
    })
    await sql()`insert into schedule_slots (instance_id, slot_at, outcome, slot_count)
      values (${other.instanceId}, ${new Date(T)}, 'fired', 1),
        (${other.instanceId}, ${new Date(T + MIN)}, 'fired', 1)`
    const page = await f.clients.dev.schedules.slots(other.id, { limit: 1 })
    const res = await call("dev", "GET", `/schedules/${s.id}/slots?cursor=${page.nextCursor}`)
    expect(res.status).toBe(422)
  })

  test("environment-scoped: another environment's key gets 404, an unknown schedule 404", async () => {
    const staging = await call("staging", "GET", `/schedules/${s.id}/slots`)
    expect(staging.status).toBe(404)
    const unknown = await call("dev", "GET", "/schedules/nope/slots")
    expect(unknown.status).toBe(404)
    const ok = (await (
      await call("dev", "GET", `/schedules/${s.id}/slots`)
    ).json()) as ScheduleSlotList
    expect(ok.data.length).toBe(4)
  })
})

describe("pause after failures", () => {
  test("failures count once per run end; a success resets; canceled leaves the count", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-count",
      task: "hourly-report",
      cron: "* * * * *",
      pauseAfterFailures: 5,
    })
    const T = Date.parse("2026-06-02T00:00:00Z")
    const at = (i: number) => new Date(T + i * 60_000)
    await endScheduledRun(s.instanceId, at(0), "failed")
    await endScheduledRun(s.instanceId, at(1), "crashed")
    await endScheduledRun(s.instanceId, at(2), "canceled")
    const timedOut = await endScheduledRun(s.instanceId, at(3), "timed_out")
    let view = await f.clients.dev.schedules.retrieve(s.id)
    expect(view.failures.consecutive).toBe(3)
    expect(view.failures.runIds).toHaveLength(3)
    expect(view.failures.runIds[2]).toBe(timedOut)
    await endScheduledRun(s.instanceId, at(4), "succeeded")
    view = await f.clients.dev.schedules.retrieve(s.id)
    expect(view.failures).toEqual({ consecutive: 0, runIds: [] })
    expect(view.active).toBe(true)
  })

  test("concurrent failing ends: counted exactly once each, paused once", async () => {
    const s = await f.clients.dev.schedules.create({
      deduplicationKey: "flow-race",
      task: "hourly-report",
      cron: "* * * * *",
      pauseAfterFailures: 4,
    })
    const [before] = await sql()<{ version: string }[]>`
      select version from schedule_instances where id = ${s.instanceId}`
    const T = Date.parse("2026-06-03T00:00:00Z")
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        endScheduledRun(s.instanceId, new Date(T + i * 60_000), "failed"),
      ),
    )
    const view = await f.clients.dev.schedules.retrieve(s.id)
    expect(view.failures.consecutive).toBe(6)
    expect([...view.failures.runIds].sort()).toEqual([...ids].sort())
    expect(view).toMatchObject({ active: false, inactiveReason: "failures", nextRun: null })
    const [after] = await sql()<{ version: string }[]>`
      select version from schedule_instances where id = ${s.instanceId}`
    expect(Number(after?.version)).toBe(Number(before?.version) + 1)
    // Activation resumes it and clears the count; deactivation is "manual".
    const resumed = await f.clients.dev.schedules.activate(s.id)
    expect(resumed).toMatchObject({ active: true, inactiveReason: null })
    expect(resumed.failures).toEqual({ consecutive: 0, runIds: [] })
    expect(resumed.nextRun).not.toBeNull()
    const off = await f.clients.dev.schedules.deactivate(s.id)
    expect(off).toMatchObject({ active: false, inactiveReason: "manual" })
  })

  test("declarative: options from the manifest; paused by failures, activate or a promotion resumes it", async () => {
    const dev = f.env("dev")
    const manifest = (salt: string) =>
      testManifest([
        {
          id: "declared",
          kind: "scheduled",
          payloadSchema: null,
          cron: { pattern: "*/10 * * * *", timezone: "UTC" },
          schedule: {
            overlap: "skip",
            catchupWindow: "2m",
            pauseAfterFailures: 2,
            runOptions: { tags: [salt] },
          },
        },
        { id: "hourly-report", kind: "scheduled", payloadSchema: null },
      ])
    const promote = async (salt: string) => {
      const id = await insertTestDeployment(sql(), {
        environmentId: dev.id,
        projectId: f.api.project.projectId,
        manifest: manifest(salt),
        promote: false,
      })
      const res = await call("dev", "POST", `/deployments/${id}/promote`, {})
      expect(res.status).toBe(200)
    }
    await promote("v1")
    const list = await f.clients.dev.schedules.list({ kind: "declarative" })
    const declared = list.data.find((d) => d.task === "declared") as Schedule
    expect(declared).toMatchObject({
      overlap: "skip",
      catchupWindow: "2m",
      pauseAfterFailures: 2,
      runOptions: { tags: ["v1"] },
      active: true,
    })
    // Active declarative schedules still refuse activate and deactivate.
    expect((await expectApiError(f.clients.dev.schedules.activate(declared.id))).code).toBe(
      "declarative_schedule",
    )
    const T = Date.parse("2026-06-04T00:00:00Z")
    await endScheduledRun(declared.instanceId, new Date(T), "failed")
    await endScheduledRun(declared.instanceId, new Date(T + 600_000), "failed")
    const paused = await f.clients.dev.schedules.retrieve(declared.id)
    expect(paused).toMatchObject({ active: false, inactiveReason: "failures" })
    // Deactivate stays refused; activate resumes a failure pause.
    expect((await expectApiError(f.clients.dev.schedules.deactivate(declared.id))).status).toBe(409)
    const resumed = await f.clients.dev.schedules.activate(declared.id)
    expect(resumed).toMatchObject({ active: true, failures: { consecutive: 0, runIds: [] } })
    // Paused again, then a promotion of a new deployment resumes it, with the new options.
    await endScheduledRun(declared.instanceId, new Date(T + 1_200_000), "failed")
    await endScheduledRun(declared.instanceId, new Date(T + 1_800_000), "failed")
    expect((await f.clients.dev.schedules.retrieve(declared.id)).active).toBe(false)
    await promote("v2")
    const after = await f.clients.dev.schedules.retrieve(declared.id)
    expect(after).toMatchObject({
      active: true,
      inactiveReason: null,
      failures: { consecutive: 0, runIds: [] },
      runOptions: { tags: ["v2"] },
    })
    expect(after.nextRun).not.toBeNull()
  })
})
