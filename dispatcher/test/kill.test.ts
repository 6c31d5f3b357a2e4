import { afterAll, beforeAll, expect, test } from "bun:test"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
} from "@helmr/migrations/testing"
import { metricSum } from "../src/testing/processes.ts"
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
 * kill -9 of dispatchers mid-fire, again and again, while a stream of slots comes due; and
 * Postgres cutting the dispatchers' connections (pg_terminate_backend). Every slot fires exactly
 * once; runs whose creator died before enqueueing them are enqueued by repair.
 */

let db: TestDatabase
const t = createTestValkey("i5kill")
let fleet: Fleet

beforeAll(async () => {
  db = await createTestDatabase("i5kill")
  fleet = new Fleet(fleetEnv(db.url, TEST_VALKEY_URL, t.prefix))
})
afterAll(async () => {
  fleet.killAll()
  await t.cleanup()
  await db.drop()
})

test("repeated kill -9 mid-fire and cut connections: every slot fires exactly once", async () => {
  const env = await seedEnvironment(db.sql, { slug: "i5-kill" })
  // Each run insert takes ~50 ms, so the dispatchers spend most of their time inside fire
  // transactions: most kills land inside one.
  await db.sql.unsafe(`
    create function i5_slow() returns trigger language plpgsql as $$
    begin perform pg_sleep(0.05); return new; end $$;
    create trigger i5_slow before insert on runs for each row execute function i5_slow();`)
  const slots = spreadSlots(500, 4_000, 10_000)
  const instances = await seedInstances(
    db.sql,
    env,
    slots.map((nextFireAt) => ({ cron: "* * * * *", nextFireAt })),
  )
  await putEntries(t.valkey, t.keys, instances)
  for (let i = 0; i < 3; i++) await fleet.spawn()

  let kills = 0
  let killedMidTransaction = 0
  let cuts = 0
  const until = slots[slots.length - 1]!.getTime() + 2_000
  while (Date.now() < until) {
    await Bun.sleep(600 + Math.random() * 600)
    const live = fleet.alive()
    const victim = live[Math.floor(Math.random() * live.length)]
    if (!victim) continue
    if (kills % 4 === 3) {
      // Postgres ends the dispatcher's sessions under it (as a restart or a failover would).
      const [row] = await db.sql<{ n: number }[]>`
        select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where application_name = ${`helmr-dispatcher:${victim.id}`}`
      cuts += row?.n ?? 0
      kills++
      continue
    }
    const [open] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where application_name = ${`helmr-dispatcher:${victim.id}`} and xact_start is not null`
    victim.signal("SIGKILL")
    await victim.exited
    kills++
    if ((open?.n ?? 0) > 0) killedMidTransaction++
    await fleet.spawn()
  }
  await waitAllHandled(db.sql, instances, 90_000, fleet)
  // Runs committed by a process killed before it could enqueue them: repair enqueues them.
  const queued = await waitRunsEnqueued(db.sql, (ids) =>
    t.valkey.zmscore(t.keys.runQueue, ...ids).then((s) => s.map((v) => v ?? null)),
  )
  const survivors = await Promise.all(fleet.alive().map((p) => p.metrics()))
  await fleet.stopAll()
  await db.sql.unsafe("drop trigger i5_slow on runs; drop function i5_slow();")

  const audit = await expectCleanAudit(db.sql, instances)
  expect(audit.fired).toBeGreaterThanOrEqual(500)
  // The survivors drained: every run is queued in Postgres and in the run queue.
  const runs = await db.sql<{ id: string; status: string }[]>`select id, status from runs`
  expect(runs.length).toBe(audit.fired)
  expect(runs.every((r) => r.status === "queued")).toBe(true)
  const scores = await t.valkey.zmscore(t.keys.runQueue, ...runs.map((r) => r.id))
  expect(scores.filter((s) => s === null)).toHaveLength(0)
  expect(queued).toBeGreaterThanOrEqual(500)
  expect(kills).toBeGreaterThanOrEqual(6)
  expect(killedMidTransaction).toBeGreaterThanOrEqual(1)
  expect(cuts).toBeGreaterThanOrEqual(1)
  // Slots whose holder died were fired by another dispatcher after the lease ran out.
  const fired = survivors.reduce(
    (n, text) => n + metricSum(text, "helmr_dispatcher_fires_total", 'outcome="fired"'),
    0,
  )
  expect(fired).toBeGreaterThan(0)
  console.log(
    `kill test: ${kills} faults (${killedMidTransaction} kills inside a transaction, ${cuts} sessions cut), ${audit.fired} slots fired once each, ${queued} runs queued`,
  )
}, 180_000)
