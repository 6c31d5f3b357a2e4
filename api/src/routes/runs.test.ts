import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { DEFAULT_SCHEDULE_UPCOMING } from "@helmr/migrations/config"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { ApiError } from "@helmr/sdk"
import { type ApiFixture, expectApiError, startApiFixture, waitFor } from "../test-fixtures.ts"

let f: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("i4runs")
})
afterAll(() => f.close())

const runCount = async () => {
  const [row] = await f.api.db.sql<{ n: number }[]>`select count(*)::int as n from runs`
  return row?.n ?? 0
}
const queueScore = async (runId: string) => {
  const score = await f.api.valkey.valkey.zscore(f.api.valkey.keys.runQueue, runId)
  return score === null ? null : Number(score)
}

describe("trigger", () => {
  test("a valid payload makes a queued run, enqueued to start now", async () => {
    const before = Date.now()
    const result = await f.clients.dev.runs.trigger(
      "review-pr",
      { prNumber: 42 },
      { tags: ["repo:web", "repo:web", "prio"], maxAttempts: 3 },
    )
    expect(result.created).toBe(true)
    const run = await f.clients.dev.runs.retrieve(result.id)
    expect(run).toMatchObject({
      id: result.id,
      taskId: "review-pr",
      status: "queued",
      payload: { prNumber: 42 },
      output: null,
      error: null,
      tags: ["repo:web", "prio"],
      maxAttempts: 3,
      attempt: 0,
      deploymentId: f.deploymentIds.dev,
      replayOf: null,
      expiresAt: null,
      cancelRequestedAt: null,
    })
    const score = await queueScore(result.id)
    expect(score).not.toBeNull()
    expect(score!).toBeGreaterThanOrEqual(before - 1000)
    expect(score!).toBeLessThanOrEqual(Date.now() + 1000)
  })

  test("the same idempotency key returns the existing run (200), even concurrently", async () => {
    const first = await f.clients.dev.runs.trigger(
      "review-pr",
      { prNumber: 1 },
      { idempotencyKey: "pr-1" },
    )
    expect(first.created).toBe(true)
    const again = await Promise.all(
      Array.from({ length: 8 }, () =>
        f.clients.dev.runs.trigger("review-pr", { prNumber: 1 }, { idempotencyKey: "pr-1" }),
      ),
    )
    for (const r of again) {
      expect(r).toMatchObject({ id: first.id, created: false })
      expect(r.run?.idempotencyKey).toBe("pr-1")
    }
    const rows = await f.api.db.sql`select id from runs where idempotency_key = 'pr-1'`
    expect(rows.length).toBe(1)
    // The raw status codes: 201 for new, 200 with the run for a known key.
    const res = await fetch(`${f.url}/api/v1/tasks/review-pr/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: { prNumber: 1 }, options: { idempotencyKey: "pr-1" } }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { id: string }).id).toBe(first.id)
  })

  test("delay and ttl set when the run may start and when it expires", async () => {
    const before = Date.now()
    const delayed = await f.clients.dev.runs.trigger("no-payload", undefined, {
      delay: "10m",
      ttl: "1h",
    })
    const run = await f.clients.dev.runs.retrieve(delayed.id)
    const delayUntil = Date.parse(run.delayUntil)
    expect(delayUntil).toBeGreaterThanOrEqual(before + 600_000 - 1000)
    expect(delayUntil).toBeLessThanOrEqual(Date.now() + 600_000 + 1000)
    expect(Date.parse(run.expiresAt!)).toBe(delayUntil + 3_600_000)
    expect(await queueScore(delayed.id)).toBe(delayUntil)

    const at = new Date(Date.now() + 3_600_000)
    const scheduled = await f.clients.dev.runs.trigger("no-payload", null, { delay: at, ttl: 30 })
    const run2 = await f.clients.dev.runs.retrieve(scheduled.id)
    expect(run2.delayUntil).toBe(at.toISOString())
    expect(Date.parse(run2.expiresAt!)).toBe(at.getTime() + 30_000)
  })

  test("a task's maxDuration is carried onto the run", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const [row] = await f.api.db.sql<RunRow[]>`select * from runs where id = ${id}`
    expect(row?.maxDurationSeconds).toBe(60)
    expect(row?.payload).toBeNull()
  })

  test("a scheduled task takes no payload; triggered bare it gets a generated one", async () => {
    const refused = await expectApiError(
      f.clients.dev.runs.trigger("nightly-maintenance", { anything: 1 }),
    )
    expect(refused.status).toBe(422)
    expect(refused.details).toEqual([
      { path: "payload", message: expect.stringContaining("takes no payload") },
    ])
    const { id } = await f.clients.dev.runs.trigger("nightly-maintenance")
    const run = await f.clients.dev.runs.retrieve(id)
    const payload = run.payload as Record<string, unknown>
    expect(payload.scheduleId).toBe("manual")
    expect(payload.timezone).toBe("UTC")
    expect(Date.parse(payload.timestamp as string)).toBeGreaterThan(Date.now() - 60_000)
    // As many as a fire lists: HELMR_SCHEDULE_UPCOMING, one setting for the API and the dispatcher.
    expect((payload.upcoming as string[]).length).toBe(DEFAULT_SCHEDULE_UPCOMING)
    expect((payload.upcoming as string[])[0]).toMatch(/T02:00:00\.000Z$/)
  })

  test("unknown tasks and environments without a deployment are 404", async () => {
    const before = await runCount()
    for (const [client, task] of [
      [f.clients.dev, "no-such-task"],
      [f.clients.dev, "bad task id!"],
      [f.clients.staging, "review-pr"],
    ] as const) {
      const error = await expectApiError(client.runs.trigger(task, { prNumber: 1 }))
      expect(error.status).toBe(404)
      expect(error.code).toBe("not_found")
    }
    expect(await runCount()).toBe(before)
  })

  test("payloads are validated against the task's JSON Schema, naming the failing paths", async () => {
    const before = await runCount()
    const cases: [unknown, string][] = [
      [{ prNumber: -3 }, "payload.prNumber"],
      [{ prNumber: 1.5 }, "payload.prNumber"],
      [{ prNumber: "42" }, "payload.prNumber"],
      [{}, "payload.prNumber"],
      [[1, 2], "payload"],
      ["text", "payload"],
    ]
    for (const [payload, path] of cases) {
      const error = await expectApiError(f.clients.dev.runs.trigger("review-pr", payload))
      expect(error.status).toBe(422)
      expect(error.code).toBe("validation_failed")
      expect((error.details as { path: string }[]).map((d) => d.path)).toContain(path)
    }
    const missing = await expectApiError(f.clients.dev.runs.trigger("review-pr"))
    expect(missing.status).toBe(422)
    const extra = await expectApiError(f.clients.dev.runs.trigger("no-payload", { a: 1 }))
    expect(extra.status).toBe(422)
    expect(extra.message).toContain("does not accept a payload")
    expect(await runCount()).toBe(before)
  })

  test("every bad option is a 422 naming its field, and creates nothing", async () => {
    const before = await runCount()
    const bad: [Record<string, unknown>, string][] = [
      [{ idempotencyKey: "has space" }, "options.idempotencyKey"],
      [{ idempotencyKey: "x".repeat(129) }, "options.idempotencyKey"],
      [{ idempotencyKey: 7 }, "options.idempotencyKey"],
      [{ delay: "soon" }, "options.delay"],
      [{ delay: 5 }, "options.delay"],
      [{ delay: "400d" }, "options.delay"],
      [{ delay: "999999999d" }, "options.delay"],
      [{ delay: "2026-01-01" }, "options.delay"],
      [{ ttl: "0s" }, "options.ttl"],
      [{ ttl: 0 }, "options.ttl"],
      [{ ttl: -1 }, "options.ttl"],
      [{ ttl: "later" }, "options.ttl"],
      [{ tags: "one" }, "options.tags"],
      [{ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, "options.tags"],
      [{ tags: ["has space"] }, "options.tags[0]"],
      [{ tags: ["a,b"] }, "options.tags[0]"],
      [{ tags: ["x".repeat(129)] }, "options.tags[0]"],
      [{ maxAttempts: 0 }, "options.maxAttempts"],
      [{ maxAttempts: 101 }, "options.maxAttempts"],
      [{ maxAttempts: 1.5 }, "options.maxAttempts"],
      [{ maxAttempts: "3" }, "options.maxAttempts"],
      [{ priority: 1 }, "options"],
    ]
    for (const [options, path] of bad) {
      const res = await post("/api/v1/tasks/no-payload/trigger", { options })
      expect(res.status).toBe(422)
      const body = (await res.json()) as { error: { code: string; details: { path: string }[] } }
      expect(body.error.code).toBe("validation_failed")
      expect(body.error.details.map((d) => d.path)).toContain(path)
    }
    for (const body of [{ payload: null, extra: 1 }, [], "text", 3, { options: "x" }]) {
      const res = await post("/api/v1/tasks/no-payload/trigger", body)
      expect(res.status).toBe(422)
    }
    expect(await runCount()).toBe(before)
  })
})

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${f.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${f.api.apiKeys.dev}`,
      "content-type": "application/json",
      ...headers,
    },
    body: typeof body === "string" && headers["x-raw"] ? body : JSON.stringify(body),
  })
}

describe("list", () => {
  test("filters by status, task, tag, schedule and time; cursor pages cover every run once", async () => {
    const c = f.clients.dev
    const tagged = await c.runs.trigger("no-payload", undefined, { tags: ["list-a", "list-b"] })
    await c.runs.trigger("no-payload", undefined, { tags: ["list-a"] })
    const canceled = await c.runs.trigger("no-payload", undefined, { tags: ["list-c"] })
    await c.runs.cancel(canceled.id)

    const both = await c.runs.list({ tag: ["list-a", "list-b"] })
    expect(both.data.map((r) => r.id)).toEqual([tagged.id])
    expect((await c.runs.list({ tag: ["list-a"] })).data.length).toBe(2)
    const byStatus = await c.runs.list({ status: ["canceled"] })
    expect(byStatus.data.map((r) => r.id)).toContain(canceled.id)
    expect(byStatus.data.every((r) => r.status === "canceled")).toBe(true)
    const byTask = await c.runs.list({ task: "nightly-maintenance" })
    expect(byTask.data.length).toBeGreaterThan(0)
    expect(byTask.data.every((r) => r.taskId === "nightly-maintenance")).toBe(true)
    expect((await c.runs.list({ schedule: "sched_none" })).data).toEqual([])
    // Summaries carry no payload.
    expect("payload" in (both.data[0] ?? {})).toBe(false)

    const all = await f.api.db.sql<{ id: string; createdAt: Date }[]>`
      select id, created_at from runs order by created_at desc, id desc`
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await c.runs.list({ limit: 3, ...(cursor ? { cursor } : {}) })
      expect(page.data.length).toBeLessThanOrEqual(3)
      seen.push(...page.data.map((r) => r.id))
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    expect(seen).toEqual(all.map((r) => r.id))

    const middle = all[Math.floor(all.length / 2)]!
    const from = await c.runs.list({ from: middle.createdAt.toISOString(), limit: 100 })
    expect(from.data.every((r) => Date.parse(r.createdAt) >= middle.createdAt.getTime())).toBe(true)
    const to = await c.runs.list({ to: middle.createdAt.toISOString(), limit: 100 })
    expect(to.data.every((r) => Date.parse(r.createdAt) < middle.createdAt.getTime())).toBe(true)
    expect(from.data.length + to.data.length).toBeGreaterThanOrEqual(all.length - 1)

    // Raw query strings: comma lists and repeats both work.
    const res = await fetch(`${f.url}/api/v1/runs?status=canceled,queued&status=failed`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}` },
    })
    expect(res.status).toBe(200)
  })

  test("bad filters are 422 naming the parameter", async () => {
    const cases: [string, string][] = [
      ["status=nope", "status[0]"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["from=yesterday", "from"],
      ["task=bad%20id", "task"],
      ["cursor=garbage", "cursor"],
      ["cursor=bm90OmFjdXJzb3I", "cursor"],
      [`cursor=${btoa("99999999999999999999:run_01m7y36ayr7gm2vjs1bb0jtyg8")}`, "cursor"],
      ["colour=red", "(query)"],
      ["task=a&task=b", "task"],
    ]
    for (const [query, path] of cases) {
      const res = await fetch(`${f.url}/api/v1/runs?${query}`, {
        headers: { authorization: `Bearer ${f.api.apiKeys.dev}` },
      })
      expect(res.status).toBe(422)
      const body = (await res.json()) as { error: { details: { path: string }[] } }
      expect(body.error.details.map((d) => d.path)).toContain(path)
    }
  })
})

describe("retrieve, cancel, replay", () => {
  test("retrieve of an unknown run is 404", async () => {
    const error = await expectApiError(
      f.clients.dev.runs.retrieve("run_00000000000000000000000000"),
    )
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(404)
  })

  test("cancel of a queued run is immediate and leaves the queue; repeating it is harmless", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload", undefined, { delay: "5m" })
    expect(await queueScore(id)).not.toBeNull()
    const run = await f.clients.dev.runs.cancel(id)
    expect(run.status).toBe("canceled")
    expect(run.finishedAt).not.toBeNull()
    expect(await queueScore(id)).toBeNull()
    expect((await f.clients.dev.runs.cancel(id)).status).toBe("canceled")
    const events = await f.api.db.sql<{ data: { to: string } }[]>`
      select data from run_events where run_id = ${id} and type = 'transition' order by id`
    expect(events.map((e) => e.data.to)).toEqual(["queued", "canceled"])
  })

  test("cancel of a running run asks its runner: flag, event and a message on the run channel", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const sql = f.api.db.sql
    await transitionRun(sql, id, ["queued"], "starting")
    await transitionRun(sql, id, ["starting"], "running")
    const subscriber = f.api.valkey.valkey.duplicate()
    const messages: string[] = []
    subscriber.on("message", (_channel: string, message: string) => messages.push(message))
    await subscriber.subscribe(f.api.valkey.keys.runChannel(id))
    try {
      const run = await f.clients.dev.runs.cancel(id)
      expect(run.status).toBe("running")
      expect(run.cancelRequestedAt).not.toBeNull()
      const again = await f.clients.dev.runs.cancel(id)
      expect(again.cancelRequestedAt).toBe(run.cancelRequestedAt)
      const deadline = Date.now() + 10_000
      while (messages.length < 2 && Date.now() < deadline) await Bun.sleep(20)
      expect(messages).toEqual(["cancel", "cancel"])
      const events =
        await sql`select 1 from run_events where run_id = ${id} and type = 'cancel_requested'`
      expect(events.length).toBe(1)
    } finally {
      subscriber.disconnect()
    }
  })

  test("cancel of a waiting run is immediate; of a finished one a 409", async () => {
    const sql = f.api.db.sql
    const waiting = await f.clients.dev.runs.trigger("no-payload")
    await transitionRun(sql, waiting.id, ["queued"], "starting")
    await transitionRun(sql, waiting.id, ["starting"], "running")
    await transitionRun(sql, waiting.id, ["running"], "waiting")
    expect((await f.clients.dev.runs.cancel(waiting.id)).status).toBe("canceled")

    const done = await f.clients.dev.runs.trigger("no-payload")
    await transitionRun(sql, done.id, ["queued"], "starting")
    await transitionRun(sql, done.id, ["starting"], "running")
    await transitionRun(sql, done.id, ["running"], "succeeded", { output: { ok: true } })
    const error = await expectApiError(f.clients.dev.runs.cancel(done.id))
    expect(error.status).toBe(409)
    expect(error.code).toBe("conflict")
    const run = await f.clients.dev.runs.retrieve(done.id)
    expect(run).toMatchObject({ status: "succeeded", output: { ok: true } })
  })

  test("cancel and replay take no body fields", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const before = await runCount()
    for (const action of ["cancel", "replay"]) {
      const res = await post(`/api/v1/runs/${id}/${action}`, { force: true })
      expect(res.status).toBe(422)
    }
    expect((await f.clients.dev.runs.retrieve(id)).status).toBe("queued")
    expect(await runCount()).toBe(before)
  })

  test("replay makes a new run with the same payload, tags and attempts", async () => {
    const original = await f.clients.dev.runs.trigger(
      "review-pr",
      { prNumber: 7 },
      { tags: ["replay-me"], maxAttempts: 2, idempotencyKey: "replay-original" },
    )
    const replay = await f.clients.dev.runs.replay(original.id)
    expect(replay.id).not.toBe(original.id)
    const run = await f.clients.dev.runs.retrieve(replay.id)
    expect(run).toMatchObject({
      status: "queued",
      payload: { prNumber: 7 },
      tags: ["replay-me"],
      maxAttempts: 2,
      replayOf: original.id,
      idempotencyKey: null,
    })
    expect(await queueScore(replay.id)).not.toBeNull()
    const again = await f.clients.dev.runs.replay(original.id)
    expect(again.id).not.toBe(replay.id)
    expect((await expectApiError(f.clients.dev.runs.replay("run_nope"))).status).toBe(404)
  })
})

describe("events", () => {
  test("streams a finished run's events, then ends; resumes after Last-Event-ID", async () => {
    const sql = f.api.db.sql
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    await transitionRun(sql, id, ["queued"], "starting")
    await transitionRun(sql, id, ["starting"], "running")
    await sql`insert into run_events (run_id, type, level, message, data)
      values (${id}, 'log', 'info', 'hello', ${sql.json({ line: 1 })})`
    await transitionRun(sql, id, ["running"], "succeeded", { output: 1 })
    const events = []
    for await (const e of f.clients.dev.runs.events(id)) events.push(e)
    expect(events.map((e) => e.type)).toEqual([
      "transition",
      "transition",
      "transition",
      "log",
      "transition",
    ])
    expect(events[3]).toMatchObject({ level: "info", message: "hello", data: { line: 1 } })
    const ids = events.map((e) => BigInt(e.id))
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids)

    const resumed = []
    for await (const e of f.clients.dev.runs.events(id, { lastEventId: events[2]!.id })) {
      resumed.push(e)
    }
    expect(resumed.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id))

    // The raw stream: SSE with `id:` lines, resumable through the Last-Event-ID header.
    const res = await fetch(`${f.url}/api/v1/runs/${id}/events`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "last-event-id": events[3]!.id },
    })
    expect(res.headers.get("content-type")).toContain("text/event-stream")
    const text = await res.text()
    expect(text).toContain(`id: ${events[4]!.id}\n`)
    expect(text).not.toContain(`id: ${events[3]!.id}\n`)
    expect(text).toContain("event: end\n")
  })

  test("follows a live run until it finishes", async () => {
    const sql = f.api.db.sql
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const seen: string[] = []
    const reading = (async () => {
      for await (const e of f.clients.dev.runs.events(id)) {
        seen.push(e.type === "transition" ? (e.data as { to: string }).to : (e.message ?? e.type))
      }
    })()
    await Bun.sleep(200)
    await transitionRun(sql, id, ["queued"], "starting")
    await transitionRun(sql, id, ["starting"], "running")
    for (let i = 0; i < 3; i++) {
      await sql`insert into run_events (run_id, type, level, message) values (${id}, 'log', 'info', ${`line ${i}`})`
      await f.api.valkey.valkey.publish(f.api.valkey.keys.runChannel(id), "event")
    }
    await transitionRun(sql, id, ["running"], "failed", { error: { message: "boom" } })
    await reading
    expect(seen).toEqual(["queued", "starting", "running", "line 0", "line 1", "line 2", "failed"])
  })

  test("a client that goes away releases its subscription", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const channel = f.api.valkey.keys.runChannel(id)
    const subscribers = async () => {
      const [, count] = (await f.api.valkey.valkey.pubsub("NUMSUB", channel)) as [string, number]
      return Number(count)
    }
    const abort = new AbortController()
    const reading = (async () => {
      for await (const _ of f.clients.dev.runs.events(id, { signal: abort.signal })) {
        // reads the initial transition, then waits for more
      }
    })()
    await waitFor(async () => ((await subscribers()) === 1 ? true : undefined))
    abort.abort()
    await reading.catch(() => {})
    await waitFor(async () => ((await subscribers()) === 0 ? true : undefined))
  })

  test("a bad Last-Event-ID is 422 and an unknown run 404", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const res = await fetch(`${f.url}/api/v1/runs/${id}/events`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "last-event-id": "abc" },
    })
    expect(res.status).toBe(422)
    const missing = await fetch(`${f.url}/api/v1/runs/run_nope/events`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}` },
    })
    expect(missing.status).toBe(404)
  })
})
