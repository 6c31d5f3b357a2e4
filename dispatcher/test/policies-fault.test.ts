import { afterAll, beforeAll, expect, test } from "bun:test"
import { insertRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
} from "@helmr/migrations/testing"
import { auditSlots } from "../src/testing/audit.ts"
import { waitFor } from "../src/testing/processes.ts"
import {
  putEntries,
  type SeededInstance,
  seedEnvironment,
  seedInstances,
} from "../src/testing/seed.ts"
import { Fleet, fleetEnv, spreadSlots, waitAllHandled } from "./fleet.ts"

/**
 * Flow-control policies under kill -9: dispatchers are killed again and again while slots of
 * instances with `overlap` skip / bufferOne / cancelPrevious (each with a run still active from
 * an earlier slot) and a catch-up window (after 5 minutes of downtime) come due. The ledger must
 * still add up — every slot fired once or skipped with its reason, no duplicate run, at most one
 * held run per instance — and the follow-ups a killed dispatcher left undone (cancel the replaced
 * run, release the held one) are finished by the survivors.
 */

let db: TestDatabase
const t = createTestValkey("h11apol")
let fleet: Fleet
const N = process.env.CI === "true" ? 20 : 50

beforeAll(async () => {
  db = await createTestDatabase("h11apol")
  fleet = new Fleet(fleetEnv(db.url, TEST_VALKEY_URL, t.prefix))
})
afterAll(async () => {
  fleet.killAll()
  await t.cleanup()
  await db.drop()
})

/** A run of an earlier slot, still queued (no runner here): the instance's active run. */
async function seedActiveRun(
  env: { environmentId: string; deploymentId: string },
  i: SeededInstance,
  slot: Date,
) {
  await insertRun(db.sql, {
    environmentId: env.environmentId,
    deploymentId: env.deploymentId,
    taskId: "nightly",
    payload: null,
    scheduleId: i.scheduleId,
    scheduleInstanceId: i.instanceId,
    slotAt: slot,
    idempotencyKey: `sched:${i.instanceId}:${slot.toISOString()}`,
  })
  await db.sql`insert into schedule_slots (instance_id, slot_at, outcome, run_id, attempts)
    select ${i.instanceId}, ${slot}, 'fired', id, 1 from runs
    where schedule_instance_id = ${i.instanceId} and slot_at = ${slot}`
}

test("kill -9 while overlap and catch-up policies decide: every slot accounted, by reason", async () => {
  const env = await seedEnvironment(db.sql, { slug: "h11a-pol" })
  // A daily cron half a day away: each instance owes exactly its seeded slot during the test
  // (an every-minute cron would add real slots whenever the test crosses a minute).
  const cron = `0 ${(new Date().getUTCHours() + 12) % 24} * * *`
  const slots = spreadSlots(3 * N, 4_000, 15_000)
  const policies = ["skip", "bufferOne", "cancelPrevious"] as const
  const overlapped = await seedInstances(
    db.sql,
    env,
    slots.map((nextFireAt) => ({ cron, nextFireAt })),
  )
  const overlapOf = new Map(overlapped.map((inst, k) => [inst.instanceId, policies[k % 3]]))
  for (const inst of overlapped) {
    await db.sql`update schedule_instances set overlap = ${overlapOf.get(inst.instanceId) ?? "allow"}
      where id = ${inst.instanceId}`
  }
  const earlier = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000)
  for (const inst of overlapped) await seedActiveRun(env, inst, earlier)
  const downSince = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000)
  const late = await seedInstances(
    db.sql,
    env,
    Array.from({ length: N }, () => ({ cron, nextFireAt: downSince })),
  )
  await db.sql`update schedule_instances set catchup_window_ms = 1000
    where id = any(${late.map((i) => i.instanceId)}::text[])`
  const all = [...overlapped, ...late]
  await putEntries(t.valkey, t.keys, all)
  for (let i = 0; i < 3; i++) await fleet.spawn()

  let kills = 0
  const until = slots[slots.length - 1]!.getTime() + 2_000
  while (Date.now() < until) {
    await Bun.sleep(300 + Math.random() * 300)
    const live = fleet.alive()
    const victim = live[Math.floor(Math.random() * live.length)]
    if (!victim) continue
    victim.signal("SIGKILL")
    await victim.exited
    kills++
    await fleet.spawn()
  }
  await waitAllHandled(db.sql, all, 90_000, fleet)

  const byPolicy = (p: string) => overlapped.filter((i) => overlapOf.get(i.instanceId) === p)
  const runsOf = async (ids: string[]) =>
    db.sql<RunRow[]>`select * from runs where schedule_instance_id = any(${ids}::text[])
      order by schedule_instance_id, slot_at`
  // cancelPrevious: every replaced run canceled and every new run released, by the survivors
  // even where the dispatcher that fired was killed before its follow-up.
  const cancelIds = byPolicy("cancelPrevious").map((i) => i.instanceId)
  await waitFor(
    async () => {
      const runs = await runsOf(cancelIds)
      return runs.every((r) =>
        r.slotAt?.getTime() === earlier.getTime()
          ? r.status === "canceled"
          : r.status === "queued" && !r.held,
      )
    },
    {
      timeoutMs: 30_000,
      describe: async () =>
        `${JSON.stringify(
          (await runsOf(cancelIds)).map((r) => [r.id, r.slotAt, r.status, r.held]),
        )}\n${fleet.logs()}`,
    },
  )
  await fleet.stopAll()

  const audit = await auditSlots(
    db.sql,
    all.map((i) => ({
      instanceId: i.instanceId,
      cron,
      timezone: "UTC",
      firstSlot: i.nextFireAt,
      alsoAllowed: late.includes(i) ? [] : [earlier],
    })),
  )
  expect({ duplicates: audit.duplicates, lost: audit.lost, unexpected: audit.unexpected }).toEqual({
    duplicates: [],
    lost: [],
    unexpected: [],
  })
  expect(audit.fired + audit.failed + audit.skipped).toBe(audit.expectedSlots)
  expect(audit.skippedByReason.overlap).toBe(N)
  expect(audit.skippedByReason.catchup_window).toBe(N)
  expect(audit.firedByReason).toEqual({ buffered: N, canceled_previous: N })

  // skip: no new run; bufferOne: one held run each, still waiting (its active run never ends).
  expect(await runsOf(byPolicy("skip").map((i) => i.instanceId))).toHaveLength(N)
  const buffered = await runsOf(byPolicy("bufferOne").map((i) => i.instanceId))
  expect(buffered.filter((r) => r.held && r.status === "queued")).toHaveLength(N)
  // The catch-up instances made no run at all.
  expect(await runsOf(late.map((i) => i.instanceId))).toHaveLength(0)
  // Counters agree with the ledger.
  const [counters] = await db.sql<{ overlap: number; catchup: number; fired: number }[]>`
    select sum(slots_skipped_overlap)::int as overlap,
      sum(slots_skipped_catchup_window)::int as catchup, sum(slots_fired)::int as fired
    from schedule_instances`
  expect(counters).toEqual({ overlap: N, catchup: N, fired: 2 * N })
  expect(kills).toBeGreaterThanOrEqual(3)
}, 240_000)
