import { afterAll, beforeAll, expect, test } from "bun:test"
import { createTestDatabase, type TestDatabase } from "@helmr/migrations/testing"
import { readScheduleEntry, valkeyKeys } from "@helmr/migrations/valkey"
import { type PrivateValkey, startPrivateValkey } from "../src/testing/private-services.ts"
import { putEntries, seedEnvironment, seedInstances } from "../src/testing/seed.ts"
import {
  expectCleanAudit,
  Fleet,
  fleetEnv,
  spreadSlots,
  waitAllHandled,
  waitRunsEnqueued,
} from "./fleet.ts"

/**
 * FLUSHALL while slots come due (on a Valkey of the test's own: the shared one serves every
 * other test). Repair rebuilds the schedule entries and the run queue from Postgres: slots due
 * meanwhile fire late but once, queued runs are queued again, nothing is lost.
 */

let db: TestDatabase
let valkey: PrivateValkey
let fleet: Fleet
const keys = valkeyKeys("i5flush")

beforeAll(async () => {
  db = await createTestDatabase("i5flush")
  valkey = await startPrivateValkey()
  fleet = new Fleet(fleetEnv(db.url, valkey.url, keys.prefix))
})
afterAll(async () => {
  fleet.killAll()
  await valkey.stop()
  await db.drop()
})

test("Valkey FLUSHALL mid-stream loses nothing", async () => {
  const env = await seedEnvironment(db.sql, { slug: "i5-flush" })
  const slots = spreadSlots(300, 2_500, 8_000)
  const instances = await seedInstances(
    db.sql,
    env,
    slots.map((nextFireAt) => ({ cron: "* * * * *", nextFireAt })),
  )
  await putEntries(valkey.client, keys, instances)
  await fleet.spawn()
  await fleet.spawn()
  // Let part of the stream fire, then lose everything.
  await Bun.sleep(slots[100]!.getTime() - Date.now())
  const [before] = await db.sql<{ n: number }[]>`select count(*)::int as n from runs`
  await valkey.client.flushall()
  expect(await valkey.client.dbsize()).toBeLessThan(5)

  await waitAllHandled(db.sql, instances, 60_000, fleet)
  // Runs fired before the flush, and after it, are all in the (rebuilt) run queue.
  const inQueue = (ids: string[]) =>
    valkey.client.zmscore(keys.runQueue, ...ids).then((s) => s.map((v) => v ?? null))
  await waitRunsEnqueued(db.sql, inQueue)
  await fleet.stopAll()
  // Counted again with the fleet stopped: the instances fire again at the next minute, and a fire
  // between the count above and the stop would be in the audit but not in that count.
  const queued = await waitRunsEnqueued(db.sql, inQueue)
  const audit = await expectCleanAudit(db.sql, instances)
  expect(before?.n ?? 0).toBeGreaterThan(0)
  expect(queued).toBe(audit.fired)
  // Every instance has exactly the entry Postgres says it should have.
  const rows = await db.sql<{ id: string; version: string; nextFireAt: Date }[]>`
    select id, version, next_fire_at from schedule_instances where active`
  for (const row of rows) {
    expect(await readScheduleEntry(valkey.client, keys, row.id)).toEqual({
      version: row.version,
      slot: row.nextFireAt,
    })
  }
  expect(await valkey.client.zcard(keys.scheduleDue)).toBe(rows.length)
}, 150_000)
