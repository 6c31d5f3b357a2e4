import { afterAll, beforeAll, expect, test } from "bun:test"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
} from "@helmr/migrations/testing"
import { auditSlots } from "../src/testing/audit.ts"
import {
  deactivateInstance,
  deleteSchedule,
  putEntries,
  type SeededInstance,
  seedEnvironment,
  seedInstances,
  updateInstance,
} from "../src/testing/seed.ts"
import { Fleet, fleetEnv, spreadSlots, waitAllHandled } from "./fleet.ts"

/**
 * The API editing, deactivating and deleting schedules while three dispatchers fire them. The
 * API side is what it does for real (a row update that bumps the version, then the Valkey entry
 * put or removed), so a fire either commits before the change or sees it and stands down.
 */

let db: TestDatabase
const prefixes: ReturnType<typeof createTestValkey>[] = []
const fleets: Fleet[] = []
const MINUTE = 60_000

beforeAll(async () => {
  db = await createTestDatabase("i5edits")
})
afterAll(async () => {
  for (const fleet of fleets) fleet.killAll()
  for (const t of prefixes) await t.cleanup()
  await db.drop()
})

interface Change {
  instance: SeededInstance
  kind: "update" | "deactivate" | "delete"
  ackAt: number
  /** Runs of the instance when the change was acknowledged. */
  runsAtAck: number
  newCursor?: Date
}

const runCount = async (instanceId: string) => {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from runs
    where schedule_instance_id = ${instanceId}`
  return row?.n ?? 0
}

/**
 * Staged fires (the default) lock their instances from shortly before the slot until the commit,
 * so a change arriving then waits and is acknowledged after the fire. Without staging, a change
 * can also beat a slot that is already due and leased: the lease stands down.
 */
test.each([
  ["staged (default)", {}],
  ["not staged", { HELMR_FIRE_PREFETCH_MS: "0" }],
] as const)(
  "edits, deactivations and deletes racing with fires, %s: nothing fires after the change",
  async (mode, overrides) => {
    const staged = mode.startsWith("staged")
    const t = createTestValkey("i5edits")
    prefixes.push(t)
    const fleet = new Fleet(fleetEnv(db.url, TEST_VALKEY_URL, t.prefix, overrides))
    fleets.push(fleet)
    const env = await seedEnvironment(db.sql, { slug: `i5-edits-${staged ? "a" : "b"}` })
    const slots = spreadSlots(300, 2_500, 8_000)
    const instances = await seedInstances(
      db.sql,
      env,
      slots.map((nextFireAt) => ({ cron: "* * * * *", nextFireAt })),
    )
    await putEntries(t.valkey, t.keys, instances)
    for (let i = 0; i < 3; i++) await fleet.spawn()

    // The "API": one change every ~20 ms, on instances whose slot is about to come due or just did.
    const changes: Change[] = []
    // Half of the schedules are changed, the other half fire undisturbed beside them. A changed
    // one is changed either just before its slot comes due, or just after (while it fires).
    const pool = instances.filter((_, i) => i % 2 === 0)
    const changedAfterDue = new Set(pool.filter((_, i) => i % 2 === 0))
    const until = slots[slots.length - 1]!.getTime() + 1_000
    while (Date.now() < until && pool.length > 0) {
      await Bun.sleep(10 + Math.random() * 20)
      const now = Date.now()
      const near = pool.filter((i) => {
        const due = i.nextFireAt.getTime() - now
        return changedAfterDue.has(i) ? due <= 0 && due > -800 : due > 0 && due < 300
      })
      const instance = near[Math.floor(Math.random() * near.length)]
      if (!instance) continue
      pool.splice(pool.indexOf(instance), 1)
      const roll = Math.random()
      if (roll < 0.4) {
        const newCursor = new Date(now + 200 + Math.floor(Math.random() * 2_500))
        await updateInstance(db.sql, t.valkey, t.keys, instance.instanceId, {
          nextFireAt: newCursor,
        })
        changes.push({
          instance,
          kind: "update",
          ackAt: Date.now(),
          runsAtAck: await runCount(instance.instanceId),
          newCursor,
        })
      } else if (roll < 0.7) {
        await deactivateInstance(db.sql, t.valkey, t.keys, instance.instanceId)
        changes.push({
          instance,
          kind: "deactivate",
          ackAt: Date.now(),
          runsAtAck: await runCount(instance.instanceId),
        })
      } else {
        await deleteSchedule(db.sql, t.valkey, t.keys, instance.scheduleId)
        changes.push({
          instance,
          kind: "delete",
          ackAt: Date.now(),
          runsAtAck: await runCount(instance.instanceId),
        })
      }
    }
    expect(changes.length).toBeGreaterThan(60)
    // Both sides of the race happened: changes after their slot fired, and changes that beat a
    // slot already due (its lease stood down).
    const afterFire = changes.filter((c) => c.runsAtAck > 0).length
    const beatDue = changes.filter(
      (c) => c.runsAtAck === 0 && c.instance.nextFireAt.getTime() <= c.ackAt,
    ).length
    expect(afterFire).toBeGreaterThan(0)
    if (!staged) expect(beatDue).toBeGreaterThan(0)

    const changed = new Set(changes.map((c) => c.instance.instanceId))
    const untouched = instances.filter((i) => !changed.has(i.instanceId))
    const updates = changes.filter((c) => c.kind === "update")
    const edited = updates.map((c) => ({
      ...c.instance,
      version: "2",
      nextFireAt: c.newCursor as Date,
    }))
    await waitAllHandled(db.sql, [...untouched, ...edited], 60_000, fleet)
    // Give a wrongful fire every chance to happen: longer than a lease and a repair period.
    await Bun.sleep(4_000)
    await fleet.stopAll()

    // Deactivated or deleted: not one run after the change was acknowledged.
    for (const change of changes.filter((c) => c.kind !== "update")) {
      expect({
        id: change.instance.instanceId,
        runs: await runCount(change.instance.instanceId),
      }).toEqual({
        id: change.instance.instanceId,
        runs: change.runsAtAck,
      })
    }
    const [dups] = await db.sql<{ n: number }[]>`select count(*)::int as n from (
    select 1 from runs group by schedule_instance_id, slot_at having count(*) > 1) d`
    expect(dups?.n).toBe(0)

    // Untouched instances: every slot accounted for. Edited ones: every slot of the new definition
    // accounted for, and the old definition's slots hold only runs made before the edit.
    const audit = await auditSlots(db.sql, [
      ...untouched.map((i) => ({
        ...i,
        cron: "* * * * *",
        timezone: "UTC",
        firstSlot: i.nextFireAt,
      })),
      ...updates.map((c) => ({
        instanceId: c.instance.instanceId,
        cron: "* * * * *",
        timezone: "UTC",
        firstSlot: c.newCursor as Date,
        alsoAllowed: oldSlots(c.instance.nextFireAt, c.ackAt),
      })),
    ])
    expect({
      duplicates: audit.duplicates,
      lost: audit.lost,
      unexpected: audit.unexpected,
    }).toEqual({
      duplicates: [],
      lost: [],
      unexpected: [],
    })
    for (const change of updates) {
      const allowed = oldSlots(change.instance.nextFireAt, change.ackAt)
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from runs
      where schedule_instance_id = ${change.instance.instanceId} and slot_at = any(${allowed.map((d) => d.toISOString())}::timestamptz[])`
      expect(row?.n ?? 0).toBeLessThanOrEqual(change.runsAtAck)
    }
    console.log(
      `edits test, ${mode}: ${changes.length} changes (${updates.length} updates; ${afterFire} after their slot fired, ${beatDue} beat a due slot), ${audit.fired} slots fired, ${audit.expectedSlots} owed`,
    )
  },
  150_000,
)

/**
 * The old definition's slots up to the edit: the seeded one and the minutes after it. A fire
 * commits at or after its slot and before the edit is acknowledged, so none lies past `ackAt`.
 */
function oldSlots(seeded: Date, ackAt: number): Date[] {
  const out = [seeded]
  for (let t = Math.ceil(seeded.getTime() / MINUTE) * MINUTE; t <= ackAt; t += MINUTE) {
    if (t > seeded.getTime()) out.push(new Date(t))
  }
  return out
}
