import { afterAll, beforeAll, expect, test } from "bun:test"
import { createTestValkey, TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { type PrivatePostgres, startPrivatePostgres } from "../src/testing/private-services.ts"
import { putEntries, seedEnvironment, seedInstances } from "../src/testing/seed.ts"
import { expectCleanAudit, Fleet, fleetEnv, spreadSlots, waitAllHandled } from "./fleet.ts"

/**
 * A real Postgres restart (a cluster of the test's own, stopped and started with pg_ctl, since
 * the shared one serves every other test) while slots come due. The dispatchers keep running,
 * reconnect, and fire every slot exactly once, the ones due during the outage late.
 */

let pg: PrivatePostgres
const t = createTestValkey("i5pgrestart")
let fleet: Fleet

beforeAll(async () => {
  pg = await startPrivatePostgres()
  fleet = new Fleet(fleetEnv(pg.url, TEST_VALKEY_URL, t.prefix))
}, 120_000)
afterAll(async () => {
  fleet.killAll()
  await t.cleanup()
  await pg.destroy()
})

test("Postgres restart mid-stream: every slot fires once, late ones included", async () => {
  const env = await seedEnvironment(pg.sql, { slug: "i5-pgrestart" })
  const slots = spreadSlots(300, 3_000, 9_000)
  const instances = await seedInstances(
    pg.sql,
    env,
    slots.map((nextFireAt) => ({ cron: "* * * * *", nextFireAt })),
  )
  await putEntries(t.valkey, t.keys, instances)
  const first = await fleet.spawn()
  const second = await fleet.spawn()
  await Bun.sleep(slots[80]!.getTime() - Date.now())
  await pg.stop()
  const downAt = Date.now()
  // Down for a few seconds: a stretch of slots comes due with no database.
  await Bun.sleep(4_000)
  const health = await fetch(`http://127.0.0.1:${first.port}/healthz`)
  expect(health.status).toBe(503)
  expect(await health.json()).toMatchObject({ postgres: "down", valkey: "ok" })
  await pg.start()
  const upAt = Date.now()

  await waitAllHandled(pg.sql, instances, 90_000, fleet)
  // Both dispatchers survived the outage.
  expect(fleet.alive()).toHaveLength(2)
  // ...and report healthy again. Not at the very instant the last slot was handled: a pool
  // connection that was reconnecting during the outage can hold the probe past its 2 s limit.
  for (const p of [first, second]) {
    expect(await healthyWithin(p.port, 30_000)).toBe(200)
  }
  await fleet.stopAll()
  const audit = await expectCleanAudit(pg.sql, instances)
  expect(audit.fired).toBeGreaterThanOrEqual(300)
  // Slots due during the outage were fired after it.
  const [late] = await pg.sql<{ n: number }[]>`
    select count(*)::int as n from schedule_slots
    where outcome = 'fired' and slot_at between ${new Date(downAt)} and ${new Date(upAt)}
      and recorded_at >= ${new Date(upAt)}`
  expect(late?.n ?? 0).toBeGreaterThan(0)
}, 200_000)

/** The first 200 of `/healthz` within `ms`, else the last status seen. */
async function healthyWithin(port: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  let status = 0
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`)
    await res.arrayBuffer()
    status = res.status
    if (status === 200) return status
    await Bun.sleep(250)
  }
  return status
}
