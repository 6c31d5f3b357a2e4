import { afterAll, beforeAll, expect, test } from "bun:test"
import type { RunRow, ScheduleSlotRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
} from "@helmr/migrations/testing"
import { putEntries, seedEnvironment, seedInstances } from "../src/testing/seed.ts"
import { expectCleanAudit, Fleet, fleetEnv, waitAllHandled } from "./fleet.ts"

/**
 * Dispatchers down across several slots. Postgres then holds what it held when they stopped: each
 * instance's cursor on a slot minutes in the past (seeded here, instead of waiting minutes), and
 * Valkey its entry. Started again, they fire that slot once, skip the rest in one recorded range,
 * and the payload's `upcoming` lists future slots only.
 */

let db: TestDatabase
const t = createTestValkey("i5downtime")
let fleet: Fleet
const MINUTE = 60_000

beforeAll(async () => {
  db = await createTestDatabase("i5downtime")
  fleet = new Fleet(fleetEnv(db.url, TEST_VALKEY_URL, t.prefix))
})
afterAll(async () => {
  fleet.killAll()
  await t.cleanup()
  await db.drop()
})

test("after downtime: the leased slot fires once, the rest are skipped, upcoming is future", async () => {
  const env = await seedEnvironment(db.sql, { slug: "i5-downtime" })
  const thisMinute = Math.floor(Date.now() / MINUTE) * MINUTE
  const stoppedAt = new Date(thisMinute - 5 * MINUTE)
  const instances = await seedInstances(
    db.sql,
    env,
    Array.from({ length: 100 }, (_, i) => ({
      cron: i % 2 === 0 ? "* * * * *" : "*/2 * * * *",
      nextFireAt: stoppedAt,
    })),
  )
  await putEntries(t.valkey, t.keys, instances)
  await fleet.spawn()
  await fleet.spawn()
  await waitAllHandled(db.sql, instances, 60_000, fleet)
  await fleet.stopAll()

  for (const [i, instance] of instances.entries()) {
    const every = i % 2 === 0 ? 1 : 2
    const runs = await db.sql<RunRow[]>`select * from runs
      where schedule_instance_id = ${instance.instanceId} order by slot_at`
    const slots = await db.sql<ScheduleSlotRow[]>`select * from schedule_slots
      where instance_id = ${instance.instanceId} order by slot_at`
    // The leased slot, exactly once.
    const first = runs.filter((r) => r.slotAt?.getTime() === stoppedAt.getTime())
    expect(first).toHaveLength(1)
    const run = first[0] as RunRow
    const payload = run.payload as { timestamp: string; upcoming: string[] }
    expect(payload.timestamp).toBe(stoppedAt.toISOString())
    // The passed slots: one range, from the slot after to the last one before dispatch.
    const skipped = slots.filter((s) => s.outcome === "skipped")
    expect(skipped.length).toBeGreaterThanOrEqual(1)
    const range = skipped[0] as ScheduleSlotRow & { lastSlotAt: Date; slotCount: number }
    const step = every * MINUTE
    expect(range.slotAt).toEqual(new Date(Math.floor(stoppedAt.getTime() / step) * step + step))
    const dispatchedAt = run.availableAt.getTime()
    expect(range.lastSlotAt.getTime()).toBeLessThanOrEqual(dispatchedAt)
    expect(range.lastSlotAt.getTime()).toBeGreaterThan(dispatchedAt - every * MINUTE)
    expect(range.slotCount).toBe(
      (range.lastSlotAt.getTime() - range.slotAt.getTime()) / (every * MINUTE) + 1,
    )
    expect(range.slotCount).toBeGreaterThanOrEqual(Math.floor(5 / every))
    // No run for any skipped slot.
    expect(runs.some((r) => r.slotAt! > stoppedAt && r.slotAt! <= range.lastSlotAt)).toBe(false)
    // Upcoming: future slots only, starting at the new cursor.
    const upcoming = payload.upcoming.map(Date.parse)
    expect(upcoming).toHaveLength(10)
    expect(upcoming.every((u) => u > dispatchedAt)).toBe(true)
    expect(upcoming[0]).toBe(range.lastSlotAt.getTime() + every * MINUTE)
    expect(
      upcoming.every((u, k) => k === 0 || u - (upcoming[k - 1] as number) === every * MINUTE),
    ).toBe(true)
  }
  // And the whole history adds up: every slot since the stop is fired or skipped, once.
  const even = instances.filter((_, i) => i % 2 === 0)
  const odd = instances.filter((_, i) => i % 2 === 1)
  const a = await expectCleanAudit(db.sql, even, "* * * * *")
  const b = await expectCleanAudit(db.sql, odd, "*/2 * * * *")
  expect(a.skipped).toBeGreaterThanOrEqual(50 * 4)
  expect(b.skipped).toBeGreaterThanOrEqual(50 * 2)
}, 120_000)
