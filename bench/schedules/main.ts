/**
 * bench/schedules — how fast and how exactly the dispatcher fires.
 *
 *   bun bench/schedules/main.ts
 *
 * Part 1, a burst: BURST schedule instances (default 10,000) due at one instant; real dispatcher
 * processes fire them. Prints the time until the last one fired and lateness, once as configured
 * by default (fires staged ahead of the slot, committed at it) and once with staging off, which
 * shows the raw fire throughput.
 * Baseline, same run and database: the same number of runs created one by one with the shared
 * `insertRun` query (8 at a time), which is what a fire per slot would cost at best.
 *
 * Part 2, steady minutes: EVERY_MINUTE instances (default 1,000) of `* * * * *` for MINUTES
 * minutes (default 3). Prints lateness p50/p99/max of every fire.
 *
 * Both parts count duplicate runs and lost slots against the brute-force cron oracle
 * (dispatcher/src/testing/audit.ts), from Postgres alone. Lateness is reported twice: slot time →
 * the fire's slot record (written by clock_timestamp() at the end of the fire transaction, just
 * before its commit), and slot time → a consumer holds the run's lease (consumer.ts: the
 * runner's own queue and claim code, 100 runs at once, no-op runs, no container), which is what
 * the peers' "due → handler start" compares with. Environment: BURST, EVERY_MINUTE, MINUTES,
 * DISPATCHERS (default 2), PICKUP (the consumer's pickup: push, default, or poll every POLL_MS,
 * default the runner's 50), BATCH (most runs claimed per round trip, default the runner's
 * CLAIM_BATCH, 50: two batches overlap; smaller ones cost more statements per run).
 * With CI=true the sizes default small (a run that proves the bench works, not a measurement).
 */

import { loadLine, ms, percentile, summarize } from "@helmr/bench-stats"
import { auditSlots } from "@helmr/dispatcher/testing/audit"
import { spawnDispatcher, waitHealthy } from "@helmr/dispatcher/testing/processes"
import {
  putEntries,
  type SeededEnvironment,
  seedEnvironment,
  seedInstances,
} from "@helmr/dispatcher/testing/seed"
import { insertRun } from "@helmr/migrations/queries/runs"
import { createTestDatabase, createTestValkey, TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { removeScheduleEntry } from "@helmr/migrations/valkey"
import { type Consumer, consumerEnv, startConsumer, waitLeased } from "./leases.ts"

const CI = process.env.CI === "true"
const BURST = Number(process.env.BURST ?? (CI ? 200 : 10_000))
const EVERY_MINUTE = Number(process.env.EVERY_MINUTE ?? (CI ? 50 : 1_000))
const MINUTES = Number(process.env.MINUTES ?? (CI ? 1 : 3))
const DISPATCHERS = Number(process.env.DISPATCHERS ?? 2)
const MINUTE = 60_000
/**
 * BENCH_PARTS=burst: stop after the burst and its baseline; BENCH_PARTS=steady: only the
 * every-minute part (cleanup still runs).
 */
class Done extends Error {}

const db = await createTestDatabase("i5bench")
const t = createTestValkey("i5bench")
const processes: Awaited<ReturnType<typeof spawnDispatcher>>[] = []
let consumer: Consumer | undefined

/** The consumer for a part: a fresh process, like the dispatchers. */
async function startLeasing(): Promise<Consumer> {
  consumer = await startConsumer(consumerEnv(db.url, t.prefix, `h14-bench-${process.pid}`))
  return consumer
}

/** Slot → lease lateness (ms) of the runs of these instances, once all are leased. */
async function leaseLateness(
  c: Consumer,
  ids: string[],
): Promise<{ late: number[]; runs: number }> {
  const runs = await db.sql<{ id: string; slotAt: Date }[]>`
    select id, slot_at from runs where schedule_instance_id = any(${ids}::text[])`
  await waitLeased(
    c,
    runs.map((r) => r.id),
  )
  const late = runs.flatMap((r) => {
    const at = c.leases.get(r.id)
    return at === undefined ? [] : [at - r.slotAt.getTime()]
  })
  return { late, runs: runs.length }
}

function printLease(label: string, lease: { late: number[]; runs: number }, target: string): void {
  const s = summarize(lease.late)
  const sorted = [...lease.late].sort((a, b) => a - b)
  console.log(
    `  to the runner lease (${label}): ${s.count}/${lease.runs} leased; p50 ${ms(s.p50)}  p90 ${ms(percentile(sorted, 90))}  p99 ${ms(s.p99)}  max ${ms(s.max)} (target: ${target}) — ${loadLine()}`,
  )
}

async function startDispatchers(extra: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < DISPATCHERS; i++) {
    const p = await spawnDispatcher({
      ...extra,
      HELMR_DATABASE_URL: db.url,
      HELMR_VALKEY_URL: TEST_VALKEY_URL,
      HELMR_KEY_PREFIX: t.prefix,
      HELMR_LOG_LEVEL: process.env.BENCH_LOG ?? "warn",
      HELMR_DISPATCHER_DB_POOL: "6",
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("HELMR_"))),
    })
    await waitHealthy(p)
    processes.push(p)
  }
}

async function stopDispatchers(): Promise<void> {
  for (const p of processes) p.signal("SIGTERM")
  await Promise.all(processes.map((p) => p.exited))
  processes.length = 0
}

/** Lateness (ms) of every fired slot of these instances, from the slot records. */
async function lateness(ids: string[]): Promise<number[]> {
  const rows = await db.sql<{ late: number }[]>`
    select extract(epoch from (recorded_at - slot_at)) * 1000 as late from schedule_slots
    where outcome = 'fired' and instance_id = any(${ids}::text[])`
  return rows.map((r) => Number(r.late))
}

/** Takes instances out of play (as the API's deactivate does) once their part is measured. */
async function retire(ids: string[]): Promise<void> {
  await db.sql`update schedule_instances set active = false, next_fire_at = null,
    version = version + 1 where id = any(${ids}::text[])`
  for (let i = 0; i < ids.length; i += 1_000) {
    await Promise.all(
      ids.slice(i, i + 1_000).map((id) => removeScheduleEntry(t.valkey, t.keys, id)),
    )
  }
}

/** Fires until `count` slots at `slot` are recorded (or a minute passed). */
async function waitFired(slot: Date, count: number): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from schedule_slots
      where outcome = 'fired' and slot_at = ${slot}`
    if ((row?.n ?? 0) >= count || Date.now() > deadline) return
    await Bun.sleep(100)
  }
}

async function burst(env: SeededEnvironment, staged: boolean): Promise<void> {
  const leasing = await startLeasing()
  // Far from a minute boundary, so each instance owes exactly this one slot during the part.
  let due = Date.now() + 10_000
  if (due % MINUTE > MINUTE - 15_000) due = Math.ceil(due / MINUTE) * MINUTE + 8_000
  const slot = new Date(due)
  // Warm-up: running dispatchers have hot code and open connections; fresh processes have not.
  const warmSlot = new Date(due - 5_000)
  const warm = await seedInstances(
    db.sql,
    env,
    Array.from({ length: 1_000 }, () => ({ cron: "* * * * *", nextFireAt: warmSlot })),
  )
  await putEntries(t.valkey, t.keys, warm)
  const instances = await seedInstances(
    db.sql,
    env,
    Array.from({ length: BURST }, () => ({ cron: "* * * * *", nextFireAt: slot })),
  )
  await putEntries(t.valkey, t.keys, instances)
  const ids = instances.map((i) => i.instanceId)
  await Bun.sleep(Math.max(0, warmSlot.getTime() - Date.now() + 200))
  await waitFired(warmSlot, warm.length)
  await retire(warm.map((w) => w.instanceId))
  await Bun.sleep(Math.max(0, due - Date.now() + 200))
  await waitFired(slot, BURST)
  const lease = await leaseLateness(leasing, ids)
  await leasing.stop()
  await retire(ids)
  const late = summarize(await lateness(ids))
  const audit = await auditSlots(
    db.sql,
    instances.map((i) => ({ ...i, cron: "* * * * *", timezone: "UTC", firstSlot: slot })),
  )
  console.log(
    staged
      ? `\n# burst, staged (default): ${BURST} instances due at one instant, ${DISPATCHERS} dispatchers`
      : `\n# burst, not staged (HELMR_FIRE_PREFETCH_MS=0): the same, all work after the slot`,
  )
  console.log(`  all fired within ${ms(late.max)} of the slot — ${loadLine()}`)
  if (!staged) console.log(`  throughput ${(late.count / (late.max / 1000)).toFixed(0)} fires/s`)
  console.log(
    `  to the fire's commit: p50 ${ms(late.p50)}  p99 ${ms(late.p99)}  max ${ms(late.max)}`,
  )
  printLease(staged ? "staged" : "not staged", lease, "all within 500 ms")
  console.log(
    `  oracle: ${audit.expectedSlots} slots owed, ${audit.fired} fired, duplicates ${audit.duplicates.length}, lost ${audit.lost.length}, unexpected ${audit.unexpected.length}`,
  )
}

async function baseline(env: SeededEnvironment): Promise<void> {
  const latencies: number[] = []
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < BURST) {
        const i = next++
        const t0 = performance.now()
        await insertRun(db.sql, {
          environmentId: env.environmentId,
          deploymentId: env.deploymentId,
          taskId: "nightly",
          payload: { timestamp: new Date().toISOString(), i },
          idempotencyKey: `baseline:${i}`,
        })
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsed = performance.now() - started
  const s = summarize(latencies)
  console.log(`\n# baseline: ${BURST} runs by insertRun, one per slot, 8 at a time`)
  console.log(`  took ${ms(elapsed)}  throughput ${(BURST / (elapsed / 1000)).toFixed(0)} runs/s`)
  console.log(`  per run p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`)
}

async function everyMinute(env: SeededEnvironment): Promise<void> {
  const leasing = await startLeasing()
  let first = Math.ceil(Date.now() / MINUTE) * MINUTE
  if (first - Date.now() < 15_000) first += MINUTE
  const slot = new Date(first)
  const instances = await seedInstances(
    db.sql,
    env,
    Array.from({ length: EVERY_MINUTE }, () => ({ cron: "* * * * *", nextFireAt: slot })),
  )
  await putEntries(t.valkey, t.keys, instances)
  // Warm-up, as for the burst: a few hundred fires a few seconds before the first slot.
  const warmSlot = new Date(first - 4_000)
  const warm = await seedInstances(
    db.sql,
    env,
    Array.from({ length: 500 }, () => ({ cron: "* * * * *", nextFireAt: warmSlot })),
  )
  await putEntries(t.valkey, t.keys, warm)
  await Bun.sleep(Math.max(0, warmSlot.getTime() - Date.now() + 200))
  await waitFired(warmSlot, warm.length)
  await retire(warm.map((w) => w.instanceId))
  const end = first + (MINUTES - 1) * MINUTE
  console.log(
    `\n# steady: ${EVERY_MINUTE} every-minute schedules for ${MINUTES} min, first slot ${slot.toISOString()}`,
  )
  await Bun.sleep(end - Date.now() + 8_000)
  // Stop before the next slot: the part owes exactly MINUTES slots per instance.
  await stopDispatchers()
  const ids = instances.map((i) => i.instanceId)
  const lease = await leaseLateness(leasing, ids)
  await leasing.stop()
  const late = summarize(await lateness(ids))
  const audit = await auditSlots(
    db.sql,
    instances.map((i) => ({ ...i, cron: "* * * * *", timezone: "UTC", firstSlot: slot })),
  )
  console.log(
    `  to the fire's commit: p50 ${ms(late.p50)}  p99 ${ms(late.p99)}  max ${ms(late.max)}`,
  )
  printLease("every minute", lease, "p99 ≤ 100 ms")
  console.log(
    `  oracle: ${audit.expectedSlots} slots owed, ${audit.fired} fired, duplicates ${audit.duplicates.length}, lost ${audit.lost.length}, unexpected ${audit.unexpected.length}`,
  )
}

try {
  console.log(`bench/schedules — ${loadLine()}`)
  if (process.env.BENCH_PARTS !== "steady") {
    const burstEnv = await seedEnvironment(db.sql, { slug: "i5-bench-burst" })
    await startDispatchers()
    await burst(burstEnv, true)
    await stopDispatchers()
    await startDispatchers({ HELMR_FIRE_PREFETCH_MS: "0" })
    await burst(burstEnv, false)
    await stopDispatchers()
    const baseEnv = await seedEnvironment(db.sql, { slug: "i5-bench-baseline" })
    await baseline(baseEnv)
  }
  if (process.env.BENCH_PARTS === "burst") throw new Done()
  const steadyEnv = await seedEnvironment(db.sql, { slug: "i5-bench-steady" })
  await startDispatchers()
  await everyMinute(steadyEnv)
  console.log(`\nend — ${loadLine()}`)
} catch (error) {
  if (!(error instanceof Done)) throw error
} finally {
  for (const p of processes) p.signal("SIGKILL")
  await consumer?.stop()
  await t.cleanup()
  await db.drop()
}
