import { type Consumer, startConsumer, waitLeased } from "@helmr/bench-schedules/leases"
import { spawnDispatcher, waitHealthy } from "@helmr/dispatcher/testing/processes"
import {
  deactivateInstance,
  putEntries,
  type SeededEnvironment,
  seedEnvironment,
  seedInstances,
} from "@helmr/dispatcher/testing/seed"
import { insertRuns } from "@helmr/migrations/queries/insert-runs"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
  type TestValkey,
} from "@helmr/migrations/testing"
import { enqueueRuns } from "@helmr/migrations/valkey"
import { burstFigures, cronFigures, MINUTE, nextMinute, type Row } from "./results.ts"
import type { Sizes } from "./run-peer.ts"

/**
 * Helmr in the same scenarios, to the moment the bench/schedules consumer (the runner's own
 * queue, wake-up and claim code, 100 at once, like the runner) holds a run's lease:
 *  - delayed runs: the burst as the peers do it, runs created with `availableAt` = the due
 *    instant and enqueued (what a trigger with `delay` writes);
 *  - schedules: the burst as schedule instances all due at one instant, and the every-minute
 *    schedules, fired by DISPATCHERS real dispatcher processes.
 */

const DISPATCHERS = 2
const SETTINGS = "runner defaults (push pickup, batched claims, 100 at once)"

interface Ctx {
  db: TestDatabase
  t: TestValkey
  env: SeededEnvironment
}

export async function runHelmr(sizes: Sizes): Promise<Row[]> {
  const db = await createTestDatabase("peershelmr")
  const t = createTestValkey("peers-helmr")
  const dispatchers: Awaited<ReturnType<typeof spawnDispatcher>>[] = []
  try {
    const ctx = { db, t, env: await seedEnvironment(db.sql, { slug: "peers-helmr" }) }
    const delayed: Row = {
      system: "helmr, delayed runs",
      version: "this repo",
      settings: SETTINGS,
      burst: await delayedBurst(ctx, sizes),
    }
    for (let i = 0; i < DISPATCHERS; i++) {
      const p = await spawnDispatcher({
        HELMR_DATABASE_URL: db.url,
        HELMR_VALKEY_URL: TEST_VALKEY_URL,
        HELMR_KEY_PREFIX: t.prefix,
        HELMR_LOG_LEVEL: "warn",
        HELMR_DISPATCHER_DB_POOL: "6",
      })
      dispatchers.push(p)
      await waitHealthy(p)
    }
    const scheduled: Row = {
      system: "helmr, schedules",
      version: "this repo",
      settings: `${SETTINGS}; ${DISPATCHERS} dispatchers, defaults (staged fires)`,
      burst: await scheduledBurst(ctx, sizes),
    }
    if (sizes.minutes > 0) scheduled.cron = await everyMinute(ctx, sizes)
    return [delayed, scheduled]
  } finally {
    for (const p of dispatchers) p.signal("SIGKILL")
    await Promise.all(dispatchers.map((p) => p.exited))
    await t.cleanup()
    await db.drop()
  }
}

function leasing(ctx: Ctx): Promise<Consumer> {
  return startConsumer({
    HELMR_DATABASE_URL: ctx.db.url,
    HELMR_VALKEY_URL: TEST_VALKEY_URL,
    HELMR_KEY_PREFIX: ctx.t.prefix,
    HELMR_RUNNER_ID: `h14-peers-${process.pid}`,
    CONCURRENCY: "100",
  })
}

/** Lease lateness of these runs, each from its own due instant, once all are leased. */
async function leaseLateness(c: Consumer, due: Map<string, number>, deadline: number) {
  await waitLeased(c, [...due.keys()], Math.max(0, deadline - Date.now()))
  return [...due].flatMap(([id, at]) => {
    const leased = c.leases.get(id)
    return leased === undefined ? [] : [leased - at]
  })
}

async function delayedBurst(ctx: Ctx, sizes: Sizes) {
  const c = await leasing(ctx)
  try {
    const due = Date.now() + sizes.leadMs
    const availableAt = new Date(due)
    const ids = new Map<string, number>()
    for (let i = 0; i < sizes.jobs; i += 1_000) {
      const inputs = Array.from({ length: Math.min(1_000, sizes.jobs - i) }, (_, j) => ({
        environmentId: ctx.env.environmentId,
        deploymentId: ctx.env.deploymentId,
        taskId: "nightly",
        payload: { i: i + j },
        availableAt,
      }))
      const runs = await insertRuns(ctx.db.sql, inputs)
      await enqueueRuns(
        ctx.t.valkey,
        ctx.t.keys,
        runs.map((r) => ({ id: r.id, availableAt })),
      )
      for (const r of runs) ids.set(r.id, due)
    }
    if (Date.now() >= due) throw new Error("enqueueing took past the due instant: raise the lead")
    return burstFigures(await leaseLateness(c, ids, due + 180_000), sizes.jobs)
  } finally {
    await c.stop()
  }
}

/** Due times of the runs these instances fired, by run id. */
async function firedRuns(ctx: Ctx, instanceIds: string[]): Promise<Map<string, number>> {
  const runs = await ctx.db.sql<{ id: string; slotAt: Date }[]>`
    select id, slot_at from runs where schedule_instance_id = any(${instanceIds}::text[])`
  return new Map(runs.map((r) => [r.id, r.slotAt.getTime()]))
}

/** Waits until `count` runs of these instances exist (or the deadline passed). */
async function waitRuns(ctx: Ctx, instanceIds: string[], count: number, deadline: number) {
  for (;;) {
    const [row] = await ctx.db.sql<{ n: number }[]>`select count(*)::int as n from runs
      where schedule_instance_id = any(${instanceIds}::text[])`
    if ((row?.n ?? 0) >= count || Date.now() > deadline) return
    await Bun.sleep(100)
  }
}

async function retire(ctx: Ctx, instanceIds: string[]): Promise<void> {
  for (let i = 0; i < instanceIds.length; i += 200) {
    await Promise.all(
      instanceIds
        .slice(i, i + 200)
        .map((id) => deactivateInstance(ctx.db.sql, ctx.t.valkey, ctx.t.keys, id)),
    )
  }
}

async function scheduledBurst(ctx: Ctx, sizes: Sizes) {
  // An instant far from a minute boundary: each instance owes this one slot, then is retired
  // before its next (its cron is every minute, its cursor seeded at the instant).
  let due = Date.now() + sizes.leadMs
  if (due % MINUTE > MINUTE - 20_000) due = nextMinute(due, 0) + sizes.leadMs
  const c = await leasing(ctx)
  try {
    const instances = await seedInstances(
      ctx.db.sql,
      ctx.env,
      Array.from({ length: sizes.jobs }, () => ({ cron: "* * * * *", nextFireAt: new Date(due) })),
    )
    await putEntries(ctx.t.valkey, ctx.t.keys, instances)
    if (Date.now() >= due) throw new Error("seeding took past the due instant: raise the lead")
    const ids = instances.map((i) => i.instanceId)
    await Bun.sleep(Math.max(0, due - Date.now()))
    await waitRuns(ctx, ids, sizes.jobs, due + 120_000)
    const late = await leaseLateness(c, await firedRuns(ctx, ids), due + 180_000)
    await retire(ctx, ids)
    return burstFigures(late, sizes.jobs)
  } finally {
    await c.stop()
  }
}

async function everyMinute(ctx: Ctx, sizes: Sizes) {
  const c = await leasing(ctx)
  try {
    const first = nextMinute(Date.now(), 15_000)
    const last = first + (sizes.minutes - 1) * MINUTE
    const instances = await seedInstances(
      ctx.db.sql,
      ctx.env,
      Array.from({ length: sizes.schedules }, () => ({
        cron: "* * * * *",
        nextFireAt: new Date(first),
      })),
    )
    await putEntries(ctx.t.valkey, ctx.t.keys, instances)
    const ids = instances.map((i) => i.instanceId)
    const expected = sizes.schedules * sizes.minutes
    await Bun.sleep(Math.max(0, last - Date.now()))
    await waitRuns(ctx, ids, expected, last + 50_000)
    // Retired before the next slot: the part owes exactly `minutes` slots per instance.
    await retire(ctx, ids)
    const due = await firedRuns(ctx, ids)
    for (const [id, at] of due) if (at > last) due.delete(id)
    return cronFigures(await leaseLateness(c, due, Date.now() + 60_000), expected)
  } finally {
    await c.stop()
  }
}
