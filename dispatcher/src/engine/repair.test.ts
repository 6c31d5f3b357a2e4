import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { newId } from "@helmr/migrations/ids"
import { insertRun } from "@helmr/migrations/queries/runs"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  walkRun,
} from "@helmr/migrations/testing"
import {
  enqueueRun,
  formatEntryToken,
  leaseRuns,
  putScheduleEntry,
  readScheduleEntry,
  timerMember,
} from "@helmr/migrations/valkey"
import {
  deactivateInstance,
  putEntries,
  type SeededEnvironment,
  seedEnvironment,
  seedInstances,
} from "../testing/seed.ts"
import { repairAll } from "./repair-loop.ts"
import { leaseScheduleEntries } from "./schedule-leases.ts"
import { testDeps } from "./test-engine.ts"

let db: TestDatabase
const t = createTestValkey("i5repair")
let env: SeededEnvironment
const NOW = Date.parse("2032-02-03T04:05:06Z")

beforeAll(async () => {
  db = await createTestDatabase("i5repair")
  env = await seedEnvironment(db.sql, { slug: "i5-repair" })
})
afterAll(async () => {
  await t.cleanup()
  await db.drop()
})

describe("repair of Valkey from Postgres", () => {
  test("schedule entries: missing, wrong and extra ones are fixed; leases and retries kept", async () => {
    const deps = testDeps(db.sql, t, { now: () => NOW })
    const at = (minutes: number) => new Date(NOW + minutes * 60_000)
    const [ok, missing, wrongSlot, wrongVersion, leased, retrying, inactive, deleted, noCursor] =
      await seedInstances(
        db.sql,
        env,
        Array.from({ length: 9 }, (_, i) => ({ cron: "*/5 * * * *", nextFireAt: at(i + 1) })),
      )
    await putEntries(t.valkey, t.keys, [
      ok!,
      wrongSlot!,
      wrongVersion!,
      leased!,
      inactive!,
      deleted!,
    ])
    await putScheduleEntry(t.valkey, t.keys, { ...wrongSlot!, nextFireAt: at(99) })
    await putScheduleEntry(t.valkey, t.keys, { ...wrongVersion!, version: 7 })
    // A retry in progress: attempt count and a backoff score that repair must not undo.
    await t.valkey.hset(t.keys.scheduleEntry, retrying!.instanceId, formatEntryToken(1, at(6), 2))
    await t.valkey.zadd(t.keys.scheduleDue, NOW + 12_345, retrying!.instanceId)
    // A lease in progress (the entry is due: its slot has passed).
    await db.sql`update schedule_instances set next_fire_at = ${new Date(NOW - 60_000)}
      where id = ${leased!.instanceId}`
    await putScheduleEntry(t.valkey, t.keys, { ...leased!, nextFireAt: new Date(NOW - 60_000) })
    const [lease] = await leaseScheduleEntries(t.valkey, t.keys, {
      now: NOW,
      leaseMs: 30_000,
      limit: 10,
    })
    expect(lease?.instanceId).toBe(leased!.instanceId)
    await db.sql`update schedule_instances set active = false, next_fire_at = null
      where id = ${inactive!.instanceId}`
    await db.sql`delete from schedules where id = ${deleted!.scheduleId}`
    await db.sql`update schedule_instances set next_fire_at = null where id = ${noCursor!.instanceId}`
    await t.valkey.zadd(t.keys.scheduleDue, 5, "schedi_orphan")

    const report = await repairAll(deps)
    expect(report).toMatchObject({ missing: 2, wrong: 2, extra: 2, orphans: 1, cursors: 1 })
    const entry = (id: string) => readScheduleEntry(t.valkey, t.keys, id)
    expect(await entry(ok!.instanceId)).toEqual({ version: "1", slot: at(1) })
    expect(await entry(missing!.instanceId)).toEqual({ version: "1", slot: at(2) })
    expect(await entry(wrongSlot!.instanceId)).toEqual({ version: "1", slot: at(3) })
    expect(await entry(wrongVersion!.instanceId)).toEqual({ version: "1", slot: at(4) })
    expect(Number(await t.valkey.zscore(t.keys.scheduleDue, leased!.instanceId))).toBe(NOW + 30_000)
    expect(await t.valkey.hget(t.keys.scheduleEntry, retrying!.instanceId)).toBe(
      formatEntryToken(1, at(6), 2),
    )
    expect(Number(await t.valkey.zscore(t.keys.scheduleDue, retrying!.instanceId))).toBe(
      NOW + 12_345,
    )
    expect(await entry(inactive!.instanceId)).toBeNull()
    expect(await entry(deleted!.instanceId)).toBeNull()
    expect(await t.valkey.zscore(t.keys.scheduleDue, "schedi_orphan")).toBeNull()
    // The instance without a cursor got the next slot, in Postgres and in Valkey.
    const [row] = await db.sql`select next_fire_at from schedule_instances
      where id = ${noCursor!.instanceId}`
    expect(row?.nextFireAt).toEqual(new Date(Date.parse("2032-02-03T04:10:00Z")))
    expect(await entry(noCursor!.instanceId)).toEqual({ version: "1", slot: row?.nextFireAt })
    // A second pass finds nothing to do.
    expect(await repairAll(deps)).toEqual({
      missing: 0,
      wrong: 0,
      extra: 0,
      orphans: 0,
      cursors: 0,
      runsEnqueued: 0,
      timersAdded: 0,
    })
    expect(deps.metrics.repairs.get({ kind: "missing" })).toBe(2)
    await deactivateInstance(db.sql, t.valkey, t.keys, ok!.instanceId)
  })

  test("after FLUSHALL nothing is lost: entries, queued runs and timers come back", async () => {
    const deps = testDeps(db.sql, t, { now: () => NOW })
    const seeded = await seedInstances(
      db.sql,
      env,
      Array.from({ length: 30 }, (_, i) => ({
        cron: "* * * * *",
        nextFireAt: new Date(NOW + i * 1_000),
      })),
    )
    await putEntries(t.valkey, t.keys, seeded)
    const base = {
      environmentId: env.environmentId,
      deploymentId: env.deploymentId,
      taskId: "nightly",
      payload: null,
    }
    const delayed = await insertRun(db.sql, { ...base, availableAt: new Date(NOW + 3_600_000) })
    const ready = await insertRun(db.sql, { ...base, expiresAt: new Date(NOW + 60_000) })
    const leasedRun = await insertRun(db.sql, base)
    const done = await insertRun(db.sql, base)
    await walkRun(db.sql, done.run.id, ["starting", "running", "succeeded"])
    const waiting = await insertRun(db.sql, base)
    await walkRun(db.sql, waiting.run.id, ["starting", "running", "waiting"])
    const waitpointId = newId("wp")
    await db.sql`insert into waitpoints (id, environment_id, run_id, kind, resume_at)
      values (${waitpointId}, ${env.environmentId}, ${waiting.run.id}, 'timer', ${new Date(NOW + 5_000)})`

    // Valkey loses everything under the prefix.
    const keys = await t.valkey.keys(`${t.prefix}:*`)
    if (keys.length > 0) await t.valkey.del(...keys)
    // A runner already holds a lease on one queued run (written after the flush).
    await enqueueRun(t.valkey, t.keys, leasedRun.run.id, new Date(NOW))
    expect(await leaseRuns(t.valkey, t.keys, { now: NOW, leaseMs: 60_000, limit: 1 })).toEqual([
      leasedRun.run.id,
    ])

    const report = await repairAll(deps)
    expect(report.missing).toBeGreaterThanOrEqual(30)
    expect(report.runsEnqueued).toBeGreaterThanOrEqual(2)
    for (const s of seeded) {
      expect(await readScheduleEntry(t.valkey, t.keys, s.instanceId)).toEqual({
        version: "1",
        slot: s.nextFireAt,
      })
    }
    const score = (id: string) =>
      t.valkey.zscore(t.keys.runQueue, id).then((s) => (s === null ? null : Number(s)))
    expect(await score(delayed.run.id)).toBe(NOW + 3_600_000)
    expect(await score(ready.run.id)).toBe(ready.run.availableAt.getTime())
    expect(await score(leasedRun.run.id)).toBe(NOW + 60_000)
    expect(await score(done.run.id)).toBeNull()
    expect(await score(waiting.run.id)).toBeNull()
    expect(Number(await t.valkey.zscore(t.keys.timers, timerMember("wait", waitpointId)))).toBe(
      NOW + 5_000,
    )
    expect(Number(await t.valkey.zscore(t.keys.timers, timerMember("expire", ready.run.id)))).toBe(
      NOW + 60_000,
    )
  })
})
