import { afterAll, beforeAll, expect, test } from "bun:test"
import { insertRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  walkRun,
} from "@helmr/migrations/testing"
import { type SeededEnvironment, seedEnvironment, seedInstances } from "../testing/seed.ts"
import { cancelReplacedRuns, releaseHeldRuns } from "./held-runs.ts"
import { HELD_AVAILABLE_AT } from "./overlap.ts"
import { repairAll } from "./repair-loop.ts"
import { testDeps } from "./test-engine.ts"

/**
 * The held-run loop against real Postgres and Valkey: a held run stays out of the run queue
 * (repair included) while its instance has an active run, is released once that run ends, and a
 * release whose enqueue was lost is put back by repair. A cancelPrevious run whose cancel was never
 * asked (its dispatcher died after the commit) is asked by the loop.
 */

let db: TestDatabase
const t = createTestValkey("h11aheld")
let env: SeededEnvironment

beforeAll(async () => {
  db = await createTestDatabase("h11aheld")
  env = await seedEnvironment(db.sql, { slug: "h11a-held" })
})
afterAll(async () => {
  await t.cleanup()
  await db.drop()
})

async function scheduledRun(instanceId: string, scheduleId: string, slot: Date, held: boolean) {
  const { run } = await insertRun(db.sql, {
    environmentId: env.environmentId,
    deploymentId: env.deploymentId,
    taskId: "nightly",
    payload: null,
    scheduleId,
    scheduleInstanceId: instanceId,
    slotAt: slot,
    idempotencyKey: `sched:${instanceId}:${slot.toISOString()}`,
    ...(held ? { availableAt: HELD_AVAILABLE_AT } : {}),
  })
  if (held) await db.sql`update runs set held = true where id = ${run.id}`
  return run.id
}

const row = async (id: string) =>
  (await db.sql<RunRow[]>`select * from runs where id = ${id}`)[0] as RunRow
const score = (id: string) => t.valkey.zscore(t.keys.runQueue, id)

test("held until the active run ends, then released and enqueued; a lost enqueue is repaired", async () => {
  const deps = testDeps(db.sql, t)
  const [inst] = await seedInstances(db.sql, env, [
    { cron: "* * * * *", nextFireAt: new Date(Date.now() + 3_600_000) },
  ])
  const { instanceId, scheduleId } = inst as { instanceId: string; scheduleId: string }
  await db.sql`update schedule_instances set overlap = 'bufferOne' where id = ${instanceId}`
  const active = await scheduledRun(instanceId, scheduleId, new Date("2030-01-01T00:00:00Z"), false)
  await walkRun(db.sql, active, ["starting", "running"])
  const held = await scheduledRun(instanceId, scheduleId, new Date("2030-01-01T00:01:00Z"), true)

  expect(await releaseHeldRuns(deps)).toEqual([])
  await repairAll(deps)
  expect(await score(held)).toBeNull()

  await walkRun(db.sql, active, ["succeeded"])
  const before = Date.now()
  expect(await releaseHeldRuns(deps)).toEqual([held])
  const released = await row(held)
  expect(released).toMatchObject({ status: "queued", held: false })
  expect(released.availableAt.getTime()).toBeGreaterThanOrEqual(before - 1_000)
  expect(Number(await score(held))).toBe(released.availableAt.getTime())
  // Twice is once.
  expect(await releaseHeldRuns(deps)).toEqual([])

  await t.valkey.zrem(t.keys.runQueue, held)
  await repairAll(deps)
  expect(Number(await score(held))).toBe(released.availableAt.getTime())
  const [event] = await db.sql<{ type: string }[]>`
    select type from run_events where run_id = ${held} and type = 'released'`
  expect(event?.type).toBe("released")
})

test("cancelPrevious: a replaced run nobody asked to cancel is asked by the loop", async () => {
  const deps = testDeps(db.sql, t)
  const [inst] = await seedInstances(db.sql, env, [
    { cron: "* * * * *", nextFireAt: new Date(Date.now() + 3_600_000) },
  ])
  const { instanceId, scheduleId } = inst as { instanceId: string; scheduleId: string }
  await db.sql`update schedule_instances set overlap = 'cancelPrevious' where id = ${instanceId}`
  const running = await scheduledRun(
    instanceId,
    scheduleId,
    new Date("2030-02-01T00:00:00Z"),
    false,
  )
  await walkRun(db.sql, running, ["starting", "running"])
  const held = await scheduledRun(instanceId, scheduleId, new Date("2030-02-01T00:01:00Z"), true)

  expect(await cancelReplacedRuns(deps)).toBe(1)
  expect((await row(running)).cancelRequestedAt).not.toBeNull()
  // Asked once: the request is not repeated.
  expect(await cancelReplacedRuns(deps)).toBe(0)
  expect(await releaseHeldRuns(deps)).toEqual([])
  // The runner ends it as canceled; the replacement is released.
  await walkRun(db.sql, running, ["canceled"])
  expect(await releaseHeldRuns(deps)).toEqual([held])
})
