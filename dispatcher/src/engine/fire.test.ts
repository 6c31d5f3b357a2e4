import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import type { RunRow, ScheduleSlotRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
} from "@helmr/migrations/testing"
import { parseEntryToken, readScheduleEntry } from "@helmr/migrations/valkey"
import { auditSlots } from "../testing/audit.ts"
import { waitFor } from "../testing/processes.ts"
import {
  deactivateInstance,
  deleteSchedule,
  putEntries,
  type SeededEnvironment,
  type SeededInstance,
  seedEnvironment,
  seedInstances,
  updateInstance,
} from "../testing/seed.ts"
import { slotIdempotencyKey } from "./decide.ts"
import type { EngineDeps } from "./deps.ts"
import { createDispatcher } from "./dispatcher.ts"
import { fireLeases } from "./fire.ts"
import { leaseScheduleEntries } from "./schedule-leases.ts"
import { testDeps } from "./test-engine.ts"

let db: TestDatabase
let env: SeededEnvironment
// Each test its own key prefix: a fire leases everything due, other tests' entries included.
const prefixes: TestValkey[] = []
let t: TestValkey
beforeEach(() => {
  t = createTestValkey("i5fire")
  prefixes.push(t)
})
const T = Date.parse("2031-05-06T07:08:00Z")

beforeAll(async () => {
  db = await createTestDatabase("i5fire")
  env = await seedEnvironment(db.sql, { slug: "i5-fire", tasks: ["nightly", "other"] })
})
afterAll(async () => {
  for (const p of prefixes) await p.cleanup()
  await db.drop()
})

/** Lease everything due at `now` and fire it, as one dispatcher iteration would. */
async function fireDue(deps: EngineDeps, now: number): Promise<number> {
  const leases = await leaseScheduleEntries(deps.valkey, deps.keys, {
    now: now + deps.settings.prefetchMs,
    leaseMs: deps.settings.leaseMs,
    limit: 1_000,
  })
  if (leases.length > 0) await fireLeases(deps, leases)
  return leases.length
}

async function seedOne(seed: Parameters<typeof seedInstances>[2][number]): Promise<SeededInstance> {
  const [instance] = await seedInstances(db.sql, env, [seed])
  await putEntries(t.valkey, t.keys, [instance as SeededInstance])
  return instance as SeededInstance
}

const runsOf = (instanceId: string) =>
  db.sql<RunRow[]>`select * from runs where schedule_instance_id = ${instanceId} order by slot_at`
const slotsOf = (instanceId: string) =>
  db.sql<ScheduleSlotRow[]>`select * from schedule_slots where instance_id = ${instanceId}
    order by slot_at`

describe("a fire", () => {
  test("creates one run with the generated payload and the instance's run options", async () => {
    let now = T + 35
    const deps = testDeps(db.sql, t, { now: () => now, settings: { upcomingCount: 3 } })
    const inst = await seedOne({
      cron: "*/5 * * * *",
      nextFireAt: new Date(T),
      externalId: "tenant-1",
      runOptions: { tags: ["nightly", "i5"], maxAttempts: 3, ttl: "10m", maxDuration: 60 },
    })
    expect(await fireDue(deps, now)).toBe(1)
    const [run, ...more] = await runsOf(inst.instanceId)
    expect(more).toHaveLength(0)
    expect(run).toMatchObject({
      status: "queued",
      taskId: "nightly",
      deploymentId: env.deploymentId,
      environmentId: env.environmentId,
      scheduleId: inst.scheduleId,
      scheduleInstanceId: inst.instanceId,
      slotAt: new Date(T),
      idempotencyKey: slotIdempotencyKey(inst.instanceId, new Date(T)),
      tags: ["nightly", "i5"],
      maxAttempts: 3,
      maxDurationSeconds: 60,
      expiresAt: new Date(T + 35 + 600_000),
      payload: {
        timestamp: new Date(T).toISOString(),
        timezone: "UTC",
        scheduleId: inst.scheduleId,
        externalId: "tenant-1",
        upcoming: [2, 7, 12].map((m) => new Date(T + m * 60_000).toISOString()),
      },
    })
    expect(run?.idempotencyKey).toBe(`sched:${inst.instanceId}:2031-05-06T07:08:00.000Z`)
    // Its session, its 'queued' event, and its place in the run queue.
    const [counts] = await db.sql<{ sessions: number; events: number }[]>`
      select (select count(*)::int from sessions where id = ${run!.sessionId}) as sessions,
        (select count(*)::int from run_events where run_id = ${run!.id} and type = 'transition') as events`
    expect(counts).toEqual({ sessions: 1, events: 1 })
    expect(Number(await t.valkey.zscore(t.keys.runQueue, run!.id))).toBe(T + 35)
    // The cursor moved, the slot is recorded, the next fire is enqueued.
    const [row] = await db.sql`select next_fire_at, last_fired_at from schedule_instances
      where id = ${inst.instanceId}`
    expect(row).toEqual({ nextFireAt: new Date(T + 120_000), lastFiredAt: new Date(T) })
    expect(await slotsOf(inst.instanceId)).toMatchObject([
      { slotAt: new Date(T), outcome: "fired", runId: run!.id, attempts: 1, slotCount: 1 },
    ])
    expect(await readScheduleEntry(t.valkey, t.keys, inst.instanceId)).toEqual({
      version: "1",
      slot: new Date(T + 120_000),
    })
    expect(deps.metrics.fires.get({ outcome: "fired" })).toBe(1)
    expect(deps.metrics.lateness.observations).toBe(1)

    // The next slot carries lastTimestamp.
    now = T + 120_010
    expect(await fireDue(deps, now)).toBe(1)
    const runs = await runsOf(inst.instanceId)
    expect(runs).toHaveLength(2)
    expect(runs[1]?.payload).toMatchObject({
      timestamp: new Date(T + 120_000).toISOString(),
      lastTimestamp: new Date(T).toISOString(),
    })
  })

  test("after downtime: the leased slot fires once, the rest are one skipped range", async () => {
    const now = T + 5 * 60_000 + 20_000
    const deps = testDeps(db.sql, t, { now: () => now })
    const inst = await seedOne({ cron: "* * * * *", nextFireAt: new Date(T) })
    expect(await fireDue(deps, now)).toBe(1)
    const runs = await runsOf(inst.instanceId)
    expect(runs.map((r) => r.slotAt)).toEqual([new Date(T)])
    const payload = runs[0]?.payload as { upcoming: string[] }
    const upcoming = payload.upcoming.map(Date.parse)
    expect(upcoming).toHaveLength(10)
    expect(upcoming.every((u) => u > now)).toBe(true)
    expect(upcoming[0]).toBe(T + 6 * 60_000)
    expect(await slotsOf(inst.instanceId)).toMatchObject([
      { slotAt: new Date(T), outcome: "fired" },
      {
        slotAt: new Date(T + 60_000),
        lastSlotAt: new Date(T + 5 * 60_000),
        outcome: "skipped",
        slotCount: 5,
        runId: null,
      },
    ])
    const [row] =
      await db.sql`select next_fire_at from schedule_instances where id = ${inst.instanceId}`
    expect(row?.nextFireAt).toEqual(new Date(T + 6 * 60_000))
    expect(deps.metrics.fires.get({ outcome: "skipped" })).toBe(5)
    const audit = await auditSlots(db.sql, [
      { instanceId: inst.instanceId, cron: "* * * * *", timezone: "UTC", firstSlot: new Date(T) },
    ])
    expect(audit).toMatchObject({
      expectedSlots: 6,
      fired: 1,
      skipped: 5,
      lost: [],
      duplicates: [],
    })
  })

  test("a lease fired twice (its holder stalled past the deadline) makes one run", async () => {
    const now = T + 10
    const deps = testDeps(db.sql, t, { now: () => now })
    const inst = await seedOne({ cron: "0 * * * *", nextFireAt: new Date(T) })
    const leases = await leaseScheduleEntries(t.valkey, t.keys, { now, leaseMs: 1, limit: 1_000 })
    const mine = leases.filter((l) => l.instanceId === inst.instanceId)
    expect(mine).toHaveLength(1)
    // Two holders of the same token, at once and again after.
    await Promise.all([fireLeases(deps, mine), fireLeases(deps, mine)])
    await fireLeases(deps, mine)
    expect(await runsOf(inst.instanceId)).toHaveLength(1)
    expect(deps.metrics.staleLeases.get({ reason: "moved" })).toBe(2)
    expect(await readScheduleEntry(t.valkey, t.keys, inst.instanceId)).toEqual({
      version: "1",
      slot: new Date(T + 52 * 60_000),
    })
  })

  test("stale leases are superseded: edited, deactivated, deleted since the lease", async () => {
    const now = T + 10
    const deps = testDeps(db.sql, t, { now: () => now })
    const [edited, deactivated, deleted] = await Promise.all(
      [0, 1, 2].map(() => seedOne({ cron: "0 * * * *", nextFireAt: new Date(T) })),
    )
    const leases = await leaseScheduleEntries(t.valkey, t.keys, {
      now,
      leaseMs: 60_000,
      limit: 1_000,
    })
    const ours = new Set([edited, deactivated, deleted].map((i) => i!.instanceId))
    const mine = leases.filter((l) => ours.has(l.instanceId))
    expect(mine).toHaveLength(3)
    // The API acts between the lease and the fire.
    await updateInstance(db.sql, t.valkey, t.keys, edited!.instanceId, {
      cron: "30 * * * *",
      nextFireAt: new Date(T + 30 * 60_000),
    })
    await deactivateInstance(db.sql, t.valkey, t.keys, deactivated!.instanceId)
    await deleteSchedule(db.sql, t.valkey, t.keys, deleted!.scheduleId)
    // Lost API writes to Valkey must not matter either: put the old entries back.
    await putEntries(t.valkey, t.keys, [deactivated!, deleted!])
    const again = await leaseScheduleEntries(t.valkey, t.keys, {
      now,
      leaseMs: 60_000,
      limit: 1_000,
    })
    await fireLeases(deps, [
      ...mine,
      ...again.filter((l) => l.instanceId !== edited!.instanceId && ours.has(l.instanceId)),
    ])
    for (const inst of [edited, deactivated, deleted]) {
      expect(await runsOf(inst!.instanceId)).toHaveLength(0)
    }
    expect(deps.metrics.staleLeases.get({ reason: "version" })).toBe(1)
    expect(deps.metrics.staleLeases.get({ reason: "inactive" })).toBe(2)
    expect(deps.metrics.staleLeases.get({ reason: "gone" })).toBe(2)
    expect(await readScheduleEntry(t.valkey, t.keys, edited!.instanceId)).toEqual({
      version: "2",
      slot: new Date(T + 30 * 60_000),
    })
    expect(await readScheduleEntry(t.valkey, t.keys, deactivated!.instanceId)).toBeNull()
    expect(await readScheduleEntry(t.valkey, t.keys, deleted!.instanceId)).toBeNull()
    expect(await t.valkey.zscore(t.keys.scheduleDue, deleted!.instanceId)).toBeNull()
  })
})

describe("failed starts", () => {
  test("no current deployment: retried with backoff, then the slot fails and the cursor moves", async () => {
    const other = await seedEnvironment(db.sql, { slug: "i5-nodeploy", promote: false })
    let now = T + 5
    const deps = testDeps(db.sql, t, {
      now: () => now,
      settings: { maxAttempts: 3, retryBaseMs: 1_000, retryMaxMs: 1_500 },
    })
    const [inst] = await seedInstances(db.sql, other, [
      { cron: "0 * * * *", nextFireAt: new Date(T) },
    ])
    await putEntries(t.valkey, t.keys, [inst!])
    const id = inst!.instanceId
    expect(await fireDue(deps, now)).toBe(1)
    let entry = await t.valkey.hget(t.keys.scheduleEntry, id)
    expect(parseEntryToken(entry!)).toMatchObject({ version: "1", slot: new Date(T), attempt: 1 })
    // Scored a prefetch later than the backoff: leased (and retried) exactly at the backoff.
    expect(Number(await t.valkey.zscore(t.keys.scheduleDue, id))).toBe(now + 1_000 + 1_500)
    // Not due again before the backoff.
    expect(await fireDue(deps, now + 999)).toBe(0)
    now += 1_000
    expect(await fireDue(deps, now)).toBe(1)
    entry = await t.valkey.hget(t.keys.scheduleEntry, id)
    expect(parseEntryToken(entry!)?.attempt).toBe(2)
    expect(Number(await t.valkey.zscore(t.keys.scheduleDue, id))).toBe(now + 1_500 + 1_500)
    now += 1_500
    expect(await fireDue(deps, now)).toBe(1)
    expect(await runsOf(id)).toHaveLength(0)
    expect(await slotsOf(id)).toMatchObject([
      {
        slotAt: new Date(T),
        outcome: "failed",
        attempts: 3,
        error: `environment ${other.environmentId} has no current deployment`,
      },
    ])
    expect(await readScheduleEntry(t.valkey, t.keys, id)).toEqual({
      version: "1",
      slot: new Date(T + 52 * 60_000),
    })
    expect(deps.metrics.retries.get({ reason: "start" })).toBe(2)
    expect(deps.metrics.fires.get({ outcome: "failed" })).toBe(1)
  })

  test("a task missing from the current deployment fails with a clear error", async () => {
    const deps = testDeps(db.sql, t, { now: () => T + 5, settings: { maxAttempts: 1 } })
    const inst = await seedOne({ cron: "0 * * * *", nextFireAt: new Date(T), taskId: "gone-task" })
    await fireDue(deps, T + 5)
    expect(await slotsOf(inst.instanceId)).toMatchObject([
      {
        outcome: "failed",
        attempts: 1,
        error: `task 'gone-task' is not in the current deployment ${env.deploymentId}`,
      },
    ])
  })

  test("one slot whose insert fails does not hold back its batch", async () => {
    const deps = testDeps(db.sql, t, { now: () => T + 5, settings: { maxAttempts: 2 } })
    const seeded = await seedInstances(
      db.sql,
      env,
      Array.from({ length: 20 }, () => ({ cron: "0 * * * *", nextFireAt: new Date(T) })),
    )
    await putEntries(t.valkey, t.keys, seeded)
    const poisoned = seeded[7]!.instanceId
    await db.sql.unsafe(`
      create function i5_poison() returns trigger language plpgsql as $$
      begin
        if new.schedule_instance_id = '${poisoned}' then raise exception 'poisoned run'; end if;
        return new;
      end $$;
      create trigger i5_poison before insert on runs for each row execute function i5_poison();`)
    try {
      await fireDue(deps, T + 5)
      await fireDue(deps, T + 5 + 60_000)
    } finally {
      await db.sql.unsafe("drop trigger i5_poison on runs; drop function i5_poison();")
    }
    const fired = await db.sql<{ n: number }[]>`select count(*)::int as n from runs
      where schedule_instance_id = any(${seeded.map((s) => s.instanceId)}::text[])`
    expect(fired[0]?.n).toBe(19)
    expect(await slotsOf(poisoned)).toMatchObject([
      { outcome: "failed", attempts: 2, error: "poisoned run" },
    ])
  })
})

describe("several dispatchers", () => {
  test("three in-process dispatchers fire 2,000 due slots, each exactly once", async () => {
    const now = Date.now()
    const seeded = await seedInstances(
      db.sql,
      env,
      // Hourly, half an hour away from now: the slot after the seeded one cannot come due while
      // the test runs, whatever real minute boundary it crosses.
      Array.from({ length: 2_000 }, (_, i) => ({
        cron: `${(new Date(now).getUTCMinutes() + 30) % 60} * * * *`,
        nextFireAt: new Date(now - 1_000 + (i % 50)),
      })),
    )
    await putEntries(t.valkey, t.keys, seeded)
    const controller = new AbortController()
    const dispatchers = [0, 1, 2].map((i) =>
      createDispatcher(
        testDeps(db.sql, t, {
          settings: { dispatcherId: `i5-${i}`, batchSize: 100, concurrency: 2 },
        }),
      ),
    )
    const running = dispatchers.map((d) => d.start(controller.signal))
    const ids = seeded.map((s) => s.instanceId)
    try {
      await waitFor(
        async () => {
          const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n
            from schedule_instances where id = any(${ids}::text[]) and next_fire_at > ${new Date(now)}`
          return row?.n === ids.length
        },
        { timeoutMs: 60_000 },
      )
    } finally {
      controller.abort()
      await Promise.all(running)
    }
    const audit = await auditSlots(
      db.sql,
      seeded.map((s) => ({ ...s, cron: "0 0 1 1 *", timezone: "UTC", firstSlot: s.nextFireAt })),
    )
    expect(audit).toMatchObject({
      expectedSlots: 2_000,
      fired: 2_000,
      duplicates: [],
      lost: [],
      unexpected: [],
    })
    const total = dispatchers.reduce((n, d) => n + d.metrics.fires.get({ outcome: "fired" }), 0)
    expect(total).toBe(audit.fired)
    // They shared the work (at least two of them fired; a loaded machine may starve the third).
    expect(
      dispatchers.filter((d) => d.metrics.fires.get({ outcome: "fired" }) > 0).length,
    ).toBeGreaterThanOrEqual(2)
  }, 90_000)
})

describe("staged fires", () => {
  test("staged ahead of its slot, a fire commits at the slot; a change meanwhile waits for it", async () => {
    const slot = new Date(Date.now() + 2_500)
    const inst = await seedOne({ cron: "* * * * *", nextFireAt: slot })
    const controller = new AbortController()
    const dispatcher = createDispatcher(testDeps(db.sql, t, { settings: { prefetchMs: 2_000 } }))
    const running = dispatcher.start(controller.signal)
    try {
      // The fire is staged (its transaction holds the row) well before the slot...
      await waitFor(
        async () => {
          const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_locks l
            join pg_stat_activity a on a.pid = l.pid
            where a.datname = current_database() and a.state = 'idle in transaction'
              and l.locktype = 'transactionid'`
          return (row?.n ?? 0) > 0
        },
        { timeoutMs: 10_000 },
      )
      expect(Date.now()).toBeLessThan(slot.getTime())
      expect(await runsOf(inst.instanceId)).toHaveLength(0)
      // ...so a deactivation sent now is acknowledged only after the fire has committed.
      await deactivateInstance(db.sql, t.valkey, t.keys, inst.instanceId)
      const acknowledgedAt = Date.now()
      expect(acknowledgedAt).toBeGreaterThanOrEqual(slot.getTime())
      const runs = await runsOf(inst.instanceId)
      expect(runs).toHaveLength(1)
      expect(runs[0]?.availableAt).toEqual(slot)
      expect(runs[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(slot.getTime())
      const [recorded] = await slotsOf(inst.instanceId)
      expect(recorded!.recordedAt.getTime()).toBeGreaterThanOrEqual(slot.getTime())
      expect(recorded!.recordedAt.getTime()).toBeLessThanOrEqual(acknowledgedAt)
    } finally {
      controller.abort()
      await running
    }
  }, 30_000)
})
