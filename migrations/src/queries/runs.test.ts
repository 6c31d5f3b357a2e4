import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "../bootstrap.ts"
import { newId } from "../ids.ts"
import type { RunRow } from "../rows.ts"
import { createTestDatabase, type TestDatabase, walkRun } from "../testing.ts"
import { insertRuns } from "./insert-runs.ts"
import { RunTransitionError } from "./run-transitions.ts"
import {
  claimQueuedRuns,
  insertRun,
  transitionRun,
  transitionRunIds,
  transitionRuns,
} from "./runs.ts"

let db: TestDatabase
let environmentId: string
let deploymentId: string

beforeAll(async () => {
  db = await createTestDatabase("runs")
  const boot = await bootstrapProject(db.sql, { slug: "runs" })
  environmentId = boot.environments[0]!.id
  deploymentId = newId("dep")
  const digest = `sha256:${"0".repeat(64)}`
  await db.sql`insert into blobs (project_id, digest, size, content) values (${boot.projectId}, ${digest}, 0, ${new Uint8Array()})`
  await db.sql`insert into deployments (id, project_id, environment_id, version, content_digest, bundle_digest, manifest)
    values (${deploymentId}, ${boot.projectId}, ${environmentId}, 1, 'c1', ${digest}, ${db.sql.json({ version: 1 })})`
})
afterAll(() => db.drop())

const base = () => ({
  environmentId,
  deploymentId,
  taskId: "t",
  payload: { user_id: 1, nested: { some_key: true } },
})

describe("insertRun", () => {
  test("creates a queued run with a session and a transition event; payload keys are kept as written", async () => {
    const { run, created } = await insertRun(db.sql, base())
    expect(created).toBe(true)
    expect(run.status).toBe("queued")
    expect(run.payload).toEqual({ user_id: 1, nested: { some_key: true } })
    const [session] = await db.sql`select * from sessions where id = ${run.sessionId}`
    expect(session).toBeDefined()
    const events = [...(await db.sql`select type, data from run_events where run_id = ${run.id}`)]
    expect(events).toEqual([{ type: "transition", data: { from: null, to: "queued" } }])
  })

  test("one idempotency key, many concurrent callers: one run, one session", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => insertRun(db.sql, { ...base(), idempotencyKey: "same-key" })),
    )
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1)
    const [counts] = await db.sql<{ runs: number; sessions: number }[]>`
      select (select count(*)::int from runs where idempotency_key = 'same-key') as runs,
             (select count(*)::int from sessions s where not exists (select 1 from runs r where r.session_id = s.id)) as sessions`
    expect(counts).toEqual({ runs: 1, sessions: 0 })
  })

  test("inside a caller's transaction it uses a savepoint and keeps the transaction usable", async () => {
    await insertRun(db.sql, { ...base(), idempotencyKey: "tx-key" })
    const again = await db.sql.begin(async (tx) => {
      const r = await insertRun(tx, { ...base(), idempotencyKey: "tx-key" })
      const [one] = await tx`select 1 as one`
      return { r, one }
    })
    expect(again.r.created).toBe(false)
    expect(again.one).toEqual({ one: 1 })
  })
})

describe("transitionRun", () => {
  test("compare-and-set: only from an expected status, with an event", async () => {
    const { run } = await insertRun(db.sql, base())
    // queued → running is not a move of the state machine: a run starts first.
    await transitionRun(db.sql, run.id, ["queued"], "starting", { runnerId: "r1" })
    const started = await transitionRun(db.sql, run.id, ["starting"], "running")
    expect(started?.status).toBe("running")
    expect(started?.startedAt).toBeInstanceOf(Date)
    expect(started?.runnerId).toBe("r1")
    expect(await transitionRun(db.sql, run.id, ["queued"], "starting")).toBeNull()
    const done = await transitionRun(db.sql, run.id, ["running"], "succeeded", {
      output: { ok: true },
    })
    expect(done?.output).toEqual({ ok: true })
    expect(done?.finishedAt).toBeInstanceOf(Date)
    expect(done?.runnerId).toBe("r1")
    const events = await db.sql<{ data: { to: string } }[]>`
      select data from run_events where run_id = ${run.id} order by id`
    expect(events.map((e) => e.data.to)).toEqual(["queued", "starting", "running", "succeeded"])
  })

  test("a move the state machine forbids throws and writes nothing", async () => {
    const { run } = await insertRun(db.sql, base())
    await expect(transitionRun(db.sql, run.id, ["queued"], "succeeded")).rejects.toThrow(
      RunTransitionError,
    )
    await expect(transitionRun(db.sql, run.id, ["queued", "running"], "expired")).rejects.toThrow(
      "a run cannot move from running to expired",
    )
    const [row] = await db.sql<{ status: string }[]>`select status from runs where id = ${run.id}`
    expect(row?.status).toBe("queued")
    const events = await db.sql`select 1 from run_events where run_id = ${run.id}`
    expect(events).toHaveLength(1)
  })

  test("racing transitions: exactly one wins", async () => {
    const { run } = await insertRun(db.sql, base())
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        transitionRun(db.sql, run.id, ["queued"], "starting", { runnerId: `r${i}` }),
      ),
    )
    expect(results.filter((r) => r !== null)).toHaveLength(1)
  })

  test("a guard makes the compare-and-set also require the owner, the attempt or a lapsed lease", async () => {
    const { run } = await insertRun(db.sql, base())
    const lease = new Date(Date.now() + 60_000)
    await transitionRun(db.sql, run.id, ["queued"], "starting", {
      runnerId: "r1",
      attempt: 1,
      leaseExpiresAt: lease,
    })
    await transitionRun(db.sql, run.id, ["starting"], "running")
    const wrongRunner = await transitionRun(
      db.sql,
      run.id,
      ["running"],
      "failed",
      {},
      {},
      { runnerId: "r2" },
    )
    expect(wrongRunner).toBeNull()
    const wrongAttempt = await transitionRun(
      db.sql,
      run.id,
      ["running"],
      "failed",
      {},
      {},
      { attempt: 2 },
    )
    expect(wrongAttempt).toBeNull()
    const leaseHeld = await transitionRun(
      db.sql,
      run.id,
      ["running"],
      "crashed",
      {},
      {},
      { leaseExpiredBefore: new Date() },
    )
    expect(leaseHeld).toBeNull()
    const owner = await transitionRun(
      db.sql,
      run.id,
      ["running"],
      "succeeded",
      { output: 1 },
      { note: "x" },
      { runnerId: "r1", attempt: 1 },
    )
    expect(owner?.status).toBe("succeeded")
    expect(owner).not.toHaveProperty("previousStatus")
    const [last] = await db.sql<{ data: unknown }[]>`
      select data from run_events where run_id = ${run.id} order by id desc limit 1`
    expect(last?.data).toEqual({ from: "running", to: "succeeded", note: "x" })
  })
})

describe("a child run's end wakes the parents waiting for it", () => {
  async function parentWaitingFor(child: RunRow) {
    const { run: parent } = await insertRun(db.sql, base())
    await walkRun(db.sql, parent.id, ["starting", "running", "waiting"])
    const waitpointId = newId("wp")
    await db.sql`insert into waitpoints (id, environment_id, run_id, kind, child_run_id, idempotency_key)
      values (${waitpointId}, ${environmentId}, ${parent.id}, 'run', ${child.id}, ${`run:${parent.id}:1`})`
    return { parent, waitpointId }
  }
  const statusOf = async (id: string) =>
    (await db.sql<{ status: string }[]>`select status from runs where id = ${id}`)[0]?.status

  test("succeeded: the waitpoint holds the output, the parent is queued with its event", async () => {
    const { run: child } = await insertRun(db.sql, base())
    const { parent, waitpointId } = await parentWaitingFor(child)
    await walkRun(db.sql, child.id, ["starting", "running"])
    // Not final: nothing moves.
    expect(await statusOf(parent.id)).toBe("waiting")
    await transitionRun(db.sql, child.id, ["running"], "succeeded", { output: { n: 42 } })
    const [waitpoint] = await db.sql`select status, data from waitpoints where id = ${waitpointId}`
    expect(waitpoint).toEqual({
      status: "completed",
      data: { ok: true, id: child.id, status: "succeeded", output: { n: 42 } },
    })
    expect(await statusOf(parent.id)).toBe("queued")
    const [last] = await db.sql<{ data: unknown }[]>`
      select data from run_events where run_id = ${parent.id} order by id desc limit 1`
    expect(last?.data).toEqual({
      from: "waiting",
      to: "queued",
      reason: "child run",
      waitpointId,
      childRunId: child.id,
    })
  })

  test("canceled without an error: ok false with a RunError; the parent wakes once", async () => {
    const { run: child } = await insertRun(db.sql, base())
    const { parent, waitpointId } = await parentWaitingFor(child)
    await transitionRun(db.sql, child.id, ["queued"], "canceled")
    const [waitpoint] = await db.sql<{ data: unknown }[]>`
      select data from waitpoints where id = ${waitpointId}`
    expect(waitpoint?.data).toEqual({
      ok: false,
      id: child.id,
      status: "canceled",
      error: { name: "RunError", message: "run canceled" },
    })
    expect(await statusOf(parent.id)).toBe("queued")
    const wakes = await db.sql`select 1 from run_events
      where run_id = ${parent.id} and data->>'reason' = 'child run'`
    expect(wakes).toHaveLength(1)
  })

  test("a batched end (transitionRuns) wakes the parents of each child it moves", async () => {
    const children = await Promise.all([insertRun(db.sql, base()), insertRun(db.sql, base())])
    const parents = []
    for (const { run: child } of children) {
      parents.push(await parentWaitingFor(child))
      await walkRun(db.sql, child.id, ["starting", "running"])
    }
    await transitionRuns(
      db.sql,
      children.map(({ run }) => ({ runId: run.id })),
      ["running"],
      "succeeded",
      { output: { n: 7 } },
    )
    for (const { parent, waitpointId } of parents) {
      expect(await statusOf(parent.id)).toBe("queued")
      const [waitpoint] = await db.sql<{ status: string }[]>`
        select status from waitpoints where id = ${waitpointId}`
      expect(waitpoint?.status).toBe("completed")
    }
  })

  test("no database trigger writes runs.status: transitionRun is its only writer", async () => {
    const triggers = await db.sql`select tgname from pg_trigger
      where tgrelid = 'runs'::regclass and not tgisinternal`
    expect([...triggers]).toEqual([])
  })
})

const item = (extra: Record<string, unknown> = {}) => ({
  environmentId,
  deploymentId,
  taskId: "t",
  payload: { user_id: 1 },
  ...extra,
})

describe("insertRuns", () => {
  test("creates every run with its session, event and flow control, in input order", async () => {
    const results = await insertRuns(db.sql, [
      item({ payload: { n: 0 } }),
      item({
        payload: { n: 1 },
        tags: ["a"],
        maxAttempts: 3,
        queue: "emails",
        concurrencyKey: "org_1",
        concurrencyLimit: 2,
        retry: { factor: 3, minDelayMs: 100 },
      }),
    ])
    expect(results.map((r) => r.created)).toEqual([true, true])
    const runs = await db.sql<RunRow[]>`
      select * from runs where id in ${db.sql(results.map((r) => r.id))}`
    const byId = new Map(runs.map((r) => [r.id, r]))
    expect(byId.get(results[0]!.id)).toMatchObject({
      payload: { n: 0 },
      queue: "task:t",
      concurrencyLimit: null,
    })
    expect(byId.get(results[1]!.id)).toMatchObject({
      payload: { n: 1 },
      tags: ["a"],
      maxAttempts: 3,
      queue: "emails",
      concurrencyKey: "org_1",
      concurrencyLimit: 2,
      retry: { factor: 3, minDelayMs: 100 },
      status: "queued",
    })
    const [counts] = await db.sql<{ sessions: number; events: number }[]>`
      select (select count(*)::int from sessions s join runs r on r.session_id = s.id
                where r.id in ${db.sql(results.map((r) => r.id))}) as sessions,
             (select count(*)::int from run_events where run_id in ${db.sql(results.map((r) => r.id))}) as events`
    expect(counts).toEqual({ sessions: 2, events: 2 })
  })

  test("idempotency per item: a known key, and a key repeated inside the batch", async () => {
    const { run: known } = await insertRun(db.sql, item({ idempotencyKey: "known" }))
    const results = await insertRuns(db.sql, [
      item({ idempotencyKey: "fresh" }),
      item({ idempotencyKey: "known" }),
      item({ idempotencyKey: "fresh" }),
      item(),
    ])
    expect(results[1]).toEqual({ id: known.id, created: false })
    expect(results[0]?.created).toBe(true)
    expect(results[2]).toEqual({ id: results[0]!.id, created: false })
    expect(results[3]?.created).toBe(true)
    const [orphans] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from sessions s
      where not exists (select 1 from runs r where r.session_id = s.id)`
    expect(orphans?.n).toBe(0)
  })

  test("1,000 items in one call", async () => {
    const results = await insertRuns(
      db.sql,
      Array.from({ length: 1000 }, (_, i) => item({ payload: { i } })),
    )
    expect(new Set(results.map((r) => r.id)).size).toBe(1000)
    const [first] = await db.sql<
      { payload: unknown }[]
    >`select payload from runs where id = ${results[0]!.id}`
    const [last] = await db.sql<
      { payload: unknown }[]
    >`select payload from runs where id = ${results[999]!.id}`
    expect(first?.payload).toEqual({ i: 0 })
    expect(last?.payload).toEqual({ i: 999 })
  })
})

describe("transitionRuns", () => {
  test("moves each run whose status and guard hold, with its own attempt and event; skips the rest", async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => insertRun(db.sql, base())))
    const [a, b, c, d] = runs.map((r) => r.run) as [RunRow, RunRow, RunRow, RunRow]
    // c was taken by someone else first; d's guard names the wrong attempt.
    await transitionRun(db.sql, c.id, ["queued"], "starting", { runnerId: "other", attempt: 1 })
    const lease = new Date(Date.now() + 30_000)
    const moved = await transitionRuns(
      db.sql,
      [a, b, c, d].map((r) => ({
        runId: r.id,
        attempt: r.attempt + 1,
        runnerId: null,
        expectAttempt: r === d ? 5 : r.attempt,
        eventData: { attempt: r.attempt + 1 },
      })),
      ["queued"],
      "starting",
      { runnerId: "r1", leaseExpiresAt: lease },
      { runnerId: "r1" },
    )
    expect(moved.map((r) => r.id).sort()).toEqual([a.id, b.id].sort())
    for (const r of moved) {
      expect(r).toMatchObject({ status: "starting", runnerId: "r1", attempt: 1 })
      expect(r.leaseExpiresAt?.getTime()).toBe(lease.getTime())
      expect(r).not.toHaveProperty("previousStatus")
      expect(r).not.toHaveProperty("eventData")
    }
    const events = await db.sql<{ runId: string; data: unknown }[]>`
      select run_id, data from run_events
      where run_id = any(${[a.id, b.id, d.id]}::text[]) and data->>'to' = 'starting'`
    expect(events.map((e) => e.data)).toEqual([
      { from: "queued", to: "starting", runnerId: "r1", attempt: 1 },
      { from: "queued", to: "starting", runnerId: "r1", attempt: 1 },
    ])
    const [still] = await db.sql<RunRow[]>`select * from runs where id = ${d.id}`
    expect(still?.status).toBe("queued")
  })

  test("racing batches over the same runs: each run moves once", async () => {
    const runs = await Promise.all(Array.from({ length: 30 }, () => insertRun(db.sql, base())))
    const ids = runs.map((r) => r.run.id)
    const results = await Promise.all(
      ["r1", "r2", "r3"].map((runner, i) =>
        transitionRuns(
          db.sql,
          (i % 2 ? [...ids].reverse() : ids).map((runId) => ({ runId, runnerId: null })),
          ["queued"],
          "starting",
          { runnerId: runner },
        ),
      ),
    )
    const all = results.flat().map((r) => r.id)
    expect(all.sort()).toEqual([...ids].sort())
  })

  test("refuses failure statuses and moves the state machine forbids, writing nothing", async () => {
    const { run } = await insertRun(db.sql, base())
    await expect(
      transitionRuns(db.sql, [{ runId: run.id }], ["queued"], "crashed"),
    ).rejects.toThrow(/transitionRun per run/)
    await expect(
      transitionRuns(db.sql, [{ runId: run.id }], ["queued"], "succeeded"),
    ).rejects.toBeInstanceOf(RunTransitionError)
    const [row] = await db.sql<RunRow[]>`select * from runs where id = ${run.id}`
    expect(row?.status).toBe("queued")
    expect(await transitionRuns(db.sql, [], ["queued"], "starting")).toEqual([])
  })
})

describe("claimQueuedRuns", () => {
  test("claims only what compare-and-set alone may take, each at its next attempt", async () => {
    const now = Date.now()
    const make = (extra: object = {}) =>
      insertRun(db.sql, { ...base(), ...extra }).then((r) => r.run)
    const plain = await make()
    const retried = await make({ maxAttempts: 3 })
    await db.sql`update runs set attempt = 2 where id = ${retried.id}`
    const soon = await make({ availableAt: new Date(now + 500) })
    const later = await make({ availableAt: new Date(now + 60_000) })
    const expired = await make({ expiresAt: new Date(now - 1_000) })
    const limited = await make({ queue: "q", concurrencyLimit: 2 })
    const held = await make()
    // A waiting run coming back: queued again, still naming the runner with its sandbox.
    await db.sql`update runs set runner_id = 'r0' where id = ${held.id}`
    const taken = await make()
    await transitionRun(db.sql, taken.id, ["queued"], "starting", { runnerId: "other", attempt: 1 })
    const ids = [plain, retried, soon, later, expired, limited, held, taken].map((r) => r.id)
    const lease = new Date(now + 30_000)
    const claimed = await claimQueuedRuns(db.sql, [...ids, "run_unknown"], {
      runnerId: "r1",
      leaseExpiresAt: lease,
      dueBy: new Date(now + 1_000),
      now: new Date(now),
    })
    expect(claimed.map((r) => r.id).sort()).toEqual([plain.id, retried.id, soon.id].sort())
    const byId = new Map(claimed.map((r) => [r.id, r]))
    expect(byId.get(plain.id)).toMatchObject({ status: "starting", runnerId: "r1", attempt: 1 })
    expect(byId.get(retried.id)).toMatchObject({ status: "starting", runnerId: "r1", attempt: 3 })
    // Whole rows, as the runner starts them.
    expect(byId.get(plain.id)?.payload).toEqual(base().payload)
    expect(byId.get(plain.id)?.leaseExpiresAt?.getTime()).toBe(lease.getTime())
    const events = await db.sql<{ runId: string; data: unknown }[]>`
      select run_id, data from run_events
      where run_id = any(${ids}::text[]) and data->>'to' = 'starting' and data->>'runnerId' = 'r1'
      order by run_id`
    expect(new Map(events.map((e) => [e.runId, e.data]))).toEqual(
      new Map([
        [plain.id, { from: "queued", to: "starting", runnerId: "r1", attempt: 1 }],
        [retried.id, { from: "queued", to: "starting", runnerId: "r1", attempt: 3 }],
        [soon.id, { from: "queued", to: "starting", runnerId: "r1", attempt: 1 }],
      ]),
    )
    const rest = await db.sql<
      { id: string; status: string; runnerId: string | null; attempt: number }[]
    >`
      select id, status, runner_id, attempt from runs
      where id = any(${[later.id, expired.id, limited.id, held.id, taken.id]}::text[])`
    const restById = new Map(rest.map((r) => [r.id, r]))
    for (const run of [later, expired, limited]) {
      expect(restById.get(run.id)).toMatchObject({ status: "queued", runnerId: null, attempt: 0 })
    }
    expect(restById.get(held.id)).toMatchObject({ status: "queued", runnerId: "r0", attempt: 0 })
    expect(restById.get(taken.id)).toMatchObject({
      status: "starting",
      runnerId: "other",
      attempt: 1,
    })
  })

  test("racing claims of the same runs: each run is claimed once", async () => {
    const runs = await Promise.all(Array.from({ length: 30 }, () => insertRun(db.sql, base())))
    const ids = runs.map((r) => r.run.id)
    const now = new Date()
    const claim = (runnerId: string) => ({
      runnerId,
      leaseExpiresAt: new Date(now.getTime() + 30_000),
      dueBy: new Date(now.getTime() + 1_000),
      now,
    })
    const results = await Promise.all(
      ["r1", "r2", "r3"].map((runner, i) =>
        claimQueuedRuns(db.sql, i % 2 ? [...ids].reverse() : ids, claim(runner)),
      ),
    )
    const all = results.flat()
    expect(all.map((r) => r.id).sort()).toEqual([...ids].sort())
    for (const run of all) expect(run.attempt).toBe(1)
  })

  test("with a gate: only that limited queue's runs, oldest first, at most its slots", async () => {
    const now = Date.now()
    const make = (extra: object = {}) =>
      insertRun(db.sql, { ...base(), ...extra }).then((r) => r.run)
    const gated = { queue: "g", concurrencyKey: "k1", concurrencyLimit: 5 }
    // Ids sort by their millisecond: a pause between runs makes "oldest" unambiguous.
    const first = await make(gated)
    await Bun.sleep(2)
    const second = await make(gated)
    await Bun.sleep(2)
    const third = await make(gated)
    const later = await make({ ...gated, availableAt: new Date(now + 60_000) })
    const otherKey = await make({ ...gated, concurrencyKey: "k2" })
    const otherLimit = await make({ ...gated, concurrencyLimit: 6 })
    const unlimited = await make()
    const ids = [third, first, later, otherKey, otherLimit, unlimited, second].map((r) => r.id)
    const claimed = await claimQueuedRuns(db.sql, ids, {
      runnerId: "r1",
      leaseExpiresAt: new Date(now + 30_000),
      dueBy: new Date(now + 1_000),
      now: new Date(now),
      gate: { environmentId, queue: "g", concurrencyKey: "k1", limit: 5, slots: 2 },
    })
    expect(claimed.map((r) => r.id).sort()).toEqual([first.id, second.id].sort())
    expect(claimed.every((r) => r.status === "starting" && r.attempt === 1)).toBe(true)
    const left = await db.sql<{ id: string; status: string }[]>`
      select id, status from runs
      where id = any(${[third, later, otherKey, otherLimit, unlimited].map((r) => r.id)}::text[])`
    expect(left.every((r) => r.status === "queued")).toBe(true)
    expect(left.length).toBe(5)
  })
})

describe("transitionRunIds", () => {
  test("the same compare-and-set and events as transitionRuns, returning only the moved ids", async () => {
    const runs = await Promise.all(Array.from({ length: 3 }, () => insertRun(db.sql, base())))
    const [a, b, c] = runs.map((r) => r.run) as [RunRow, RunRow, RunRow]
    const items = [a, b, c].map((r) => ({ runId: r.id, runnerId: null }))
    await transitionRuns(db.sql, items.slice(0, 2), ["queued"], "starting", { runnerId: "r1" })
    const guarded = [a, b, c].map((r) => ({ runId: r.id, runnerId: "r1" }))
    // Pipelined in one transaction, in order: c is still queued, so it moves in neither.
    const [running, done] = await db.sql.begin((tx) =>
      Promise.all([
        transitionRunIds(tx, guarded, ["starting"], "running"),
        transitionRunIds(tx, guarded, ["running"], "succeeded", { output: null }),
      ]),
    )
    expect(running.sort()).toEqual([a.id, b.id].sort())
    expect(done.sort()).toEqual([a.id, b.id].sort())
    const rows = await db.sql<RunRow[]>`
      select * from runs where id = any(${[a.id, b.id, c.id]}::text[]) order by id`
    const byId = new Map(rows.map((r) => [r.id, r]))
    expect(byId.get(c.id)?.status).toBe("queued")
    for (const id of [a.id, b.id]) {
      const row = byId.get(id)
      expect(row?.status).toBe("succeeded")
      expect(row?.startedAt).toBeInstanceOf(Date)
      expect(row?.finishedAt).toBeInstanceOf(Date)
    }
    const events = await db.sql<{ runId: string; data: { from: string; to: string } }[]>`
      select run_id, data from run_events
      where run_id = any(${[a.id, b.id, c.id]}::text[]) order by id`
    expect(
      events.filter((e) => e.runId === a.id).map((e) => `${e.data.from}>${e.data.to}`),
    ).toEqual(["null>queued", "queued>starting", "starting>running", "running>succeeded"])
    expect(events.filter((e) => e.runId === c.id)).toHaveLength(1)
    expect(await transitionRunIds(db.sql, [], ["queued"], "starting")).toEqual([])
    await expect(
      transitionRunIds(db.sql, [{ runId: c.id }], ["running"], "failed"),
    ).rejects.toThrow(/transitionRun per run/)
  })
})
