import { afterAll, beforeAll, expect, test } from "bun:test"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
} from "@helmr/migrations/testing"
import { metricSum, waitFor } from "../src/testing/processes.ts"
import { putEntries, seedEnvironment, seedInstances } from "../src/testing/seed.ts"
import { expectCleanAudit, Fleet, fleetEnv, waitAllHandled } from "./fleet.ts"

/**
 * A dispatcher frozen (SIGSTOP) while it holds leases, past the lease deadline: its slots return
 * to the pool and another dispatcher fires them; thawed (SIGCONT), the first one fires nothing.
 * The freeze is placed deterministically: the test holds the instances' rows locked, so the first
 * dispatcher is caught inside its fire, leases taken, waiting for the lock.
 */

let db: TestDatabase
const t = createTestValkey("i5stop")
let fleet: Fleet

beforeAll(async () => {
  db = await createTestDatabase("i5stop")
  fleet = new Fleet(
    fleetEnv(db.url, TEST_VALKEY_URL, t.prefix, { HELMR_SCHEDULE_BATCH_SIZE: "100" }),
  )
})
afterAll(async () => {
  fleet.killAll()
  await t.cleanup()
  await db.drop()
})

test("SIGSTOP past the lease deadline: another dispatcher fires the slots, once", async () => {
  const env = await seedEnvironment(db.sql, { slug: "i5-stop" })
  const slot = new Date(Date.now() + 1_500)
  const instances = await seedInstances(
    db.sql,
    env,
    Array.from({ length: 60 }, () => ({ cron: "* * * * *", nextFireAt: slot })),
  )
  await putEntries(t.valkey, t.keys, instances)
  const ids = instances.map((i) => i.instanceId)

  const blocker = await db.sql.reserve()
  let frozen: Awaited<ReturnType<Fleet["spawn"]>> | undefined
  try {
    await blocker`begin`
    await blocker`select id from schedule_instances where id = any(${ids}::text[]) for update`
    frozen = await fleet.spawn()
    // It leased the slots (their scores became its lease deadline) and waits on our lock.
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
          where application_name = ${`helmr-dispatcher:${frozen!.id}`} and wait_event_type = 'Lock'`
        return (row?.n ?? 0) > 0
      },
      { timeoutMs: 30_000, describe: () => frozen!.log() },
    )
    const scores = await t.valkey.zmscore(t.keys.scheduleDue, ...ids)
    expect(scores.every((s) => Number(s) > slot.getTime())).toBe(true)
    frozen.signal("SIGSTOP")
  } finally {
    await blocker`commit`
    blocker.release()
  }
  // Frozen, it cannot even read its query result: Postgres ends its idle transaction after the
  // lease length; by then the leases have run out and a second dispatcher takes them.
  const rescuer = await fleet.spawn()
  await waitAllHandled(db.sql, instances, 60_000, fleet)
  frozen!.signal("SIGCONT")
  // Thawed, it tries to finish its fire: its transaction is gone, its leases superseded.
  await waitFor(
    async () => {
      const text = await frozen!.metrics().catch(() => "")
      return (
        metricSum(text, "helmr_dispatcher_fire_retries_total") +
          metricSum(text, "helmr_dispatcher_stale_leases_total") >
        0
      )
    },
    { timeoutMs: 30_000, describe: () => frozen!.log() },
  )
  const [frozenText, rescuerText] = await Promise.all([frozen!.metrics(), rescuer.metrics()])
  await fleet.stopAll()
  expect(metricSum(frozenText, "helmr_dispatcher_fires_total", 'outcome="fired"')).toBe(0)
  expect(
    metricSum(rescuerText, "helmr_dispatcher_fires_total", 'outcome="fired"'),
  ).toBeGreaterThanOrEqual(60)
  const audit = await expectCleanAudit(db.sql, instances)
  expect(audit.fired).toBeGreaterThanOrEqual(60)
  const [runs] = await db.sql<
    { n: number }[]
  >`select count(*)::int as n from runs where slot_at = ${slot}`
  expect(runs?.n).toBe(60)
}, 150_000)
