/**
 * bench/pickup — queued → starting: how fast a runner takes a run from its queue, with push
 * pickup (the default: wake-ups on the queue's channel) beside the old polling
 * (HELMR_RUNNER_PICKUP=poll, every 50 ms), measured in the same run on the same Postgres and
 * Valkey. The time is the one Postgres stamps on the run's `queued` and `starting` transition
 * events (the trigger's insert and the claim's compare-and-set), so it covers insert → commit →
 * enqueue → wake-up → lease → claim.
 *
 *   bun bench/pickup/main.ts
 *
 * Part 1, the runner: the real run loop (local driver: no Docker), idle between runs; RUNS runs
 * (default 40) one after another, each triggered after a random pause so a poll's phase is
 * uniform.
 * Part 2, the claim path without sandboxes: the bench/schedules consumer (the runner's queue,
 * wake-up and batched claim code, 100 runs held at once, no-op runs). Idle pickup over IDLE
 * single runs (default 200), then a burst of BURST runs (default 5,000) enqueued in one command:
 * throughput from the enqueue to the last claim.
 * With CI=true the sizes default small (proves the bench works; not a measurement).
 */

import { startConsumer } from "@helmr/bench-schedules/leases"
import { loadLine, ms, summarize } from "@helmr/bench-stats"
import { seedEnvironment } from "@helmr/dispatcher/testing/seed"
import type { Sql } from "@helmr/migrations/db"
import { insertRuns } from "@helmr/migrations/queries/insert-runs"
import { insertRun } from "@helmr/migrations/queries/runs"
import { createTestDatabase, createTestValkey, TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { enqueueRun, enqueueRuns } from "@helmr/migrations/valkey"
import { CLAIM_BATCH } from "@helmr/runner/run/claim"
import { waitForRun } from "@helmr/runner/testing/deployments"
import { basicBundle, basicManifest } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"

const CI = process.env.CI === "true"
const RUNS = Number(process.env.RUNS ?? (CI ? 4 : 40))
const IDLE = Number(process.env.IDLE ?? (CI ? 10 : 200))
const BURST = Number(process.env.BURST ?? (CI ? 200 : 5_000))
const MODES = ["push", "poll"] as const
type Mode = (typeof MODES)[number]

/** queued → starting (ms) of each run, from its transition events. */
async function pickupTimes(sql: Sql, runIds: readonly string[]): Promise<number[]> {
  const rows = await sql<{ ms: number }[]>`
    select extract(epoch from (s.created_at - q.created_at)) * 1000 as ms
    from run_events q join run_events s on s.run_id = q.run_id
    where q.run_id = any(${runIds as string[]}::text[])
      and q.type = 'transition' and q.data->>'to' = 'queued'
      and s.type = 'transition' and s.data->>'to' = 'starting'`
  return rows.map((r) => Number(r.ms))
}

function line(label: string, samples: number[], extra = ""): string {
  const s = summarize(samples)
  return `  ${label.padEnd(26)} median ${ms(s.p50).padStart(9)}  p99 ${ms(s.p99).padStart(9)}  max ${ms(s.max).padStart(9)}  n=${s.count}${extra} — ${loadLine()}`
}

async function runnerPart(mode: Mode): Promise<void> {
  const h = await startRunnerHarness("pickupbench", {
    HELMR_SANDBOX_DRIVER: "local",
    HELMR_RUNNER_PICKUP: mode,
    HELMR_RUNNER_POLL_MS: "50",
    HELMR_RUNNER_SWEEP_MS: "15000",
  })
  try {
    const deploymentId = await h.deploy({ bundle: await basicBundle(), manifest: basicManifest() })
    const once = async (i: number) => {
      await Bun.sleep(Math.random() * 100)
      const run = await h.trigger({ deploymentId, taskId: "hello", payload: { name: `r${i}` } })
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 60_000)
      if (done.status !== "succeeded") throw new Error(`run ${run.id} ${done.status}`)
      return run.id
    }
    for (let i = 0; i < 3; i++) await once(-i)
    const ids: string[] = []
    const started = performance.now()
    for (let i = 0; i < RUNS; i++) ids.push(await once(i))
    const rate = (RUNS / (performance.now() - started)) * 1000
    console.log(
      line(
        `runner, ${mode}:`,
        await pickupTimes(h.db.sql, ids),
        `  ${rate.toFixed(1)} runs/s (sequential, whole runs)`,
      ),
    )
  } finally {
    await h.stop()
  }
}

async function claimPart(mode: Mode): Promise<void> {
  const db = await createTestDatabase("pickupbench")
  const t = createTestValkey("pickupbench")
  const consumer = await startConsumer({
    HELMR_DATABASE_URL: db.url,
    HELMR_VALKEY_URL: TEST_VALKEY_URL,
    HELMR_KEY_PREFIX: t.prefix,
    HELMR_RUNNER_ID: `h14-pickup-${process.pid}`,
    CONCURRENCY: "100",
    PICKUP: mode,
    POLL_MS: "50",
  })
  try {
    const env = await seedEnvironment(db.sql, { slug: `pickup-${mode}` })
    const base = {
      environmentId: env.environmentId,
      deploymentId: env.deploymentId,
      taskId: "nightly",
      payload: null,
    }
    const idle: string[] = []
    for (let i = 0; i < IDLE; i++) {
      await Bun.sleep(Math.random() * 60)
      const { run } = await insertRun(db.sql, base)
      await enqueueRun(t.valkey, t.keys, run.id, run.availableAt)
      idle.push(run.id)
      const deadline = Date.now() + 10_000
      while (!consumer.leases.has(run.id) && Date.now() < deadline) await Bun.sleep(2)
    }
    console.log(line(`claim path, ${mode}, idle:`, await pickupTimes(db.sql, idle)))
    const created = await insertRuns(
      db.sql,
      Array.from({ length: BURST }, () => base),
    )
    const runs = created.map((c) => ({ id: c.id, availableAt: new Date() }))
    const t0 = Date.now()
    await enqueueRuns(t.valkey, t.keys, runs)
    const deadline = Date.now() + 120_000
    while (runs.some((r) => !consumer.leases.has(r.id)) && Date.now() < deadline)
      await Bun.sleep(20)
    const last = Math.max(...runs.map((r) => consumer.leases.get(r.id) ?? Number.NaN))
    const rate = (BURST / (last - t0)) * 1000
    const leased = runs.filter((r) => consumer.leases.has(r.id)).length
    console.log(
      `  claim path, ${mode}, burst:`.padEnd(29) +
        `${leased}/${BURST} claimed, last after ${ms(last - t0)}  ${rate.toFixed(0)} runs/s — ${loadLine()}`,
    )
  } finally {
    await consumer.stop()
    await t.cleanup()
    await db.drop()
  }
}

console.log(`bench/pickup — queued → starting, push beside poll (50 ms) — ${loadLine()}`)
console.log("\n# the runner (run loop, local driver), idle between runs")
for (const mode of MODES) await runnerPart(mode)
console.log(
  `\n# the claim path (bench/schedules consumer: 100 held, batches of up to ${CLAIM_BATCH}, no sandboxes)`,
)
for (const mode of MODES) await claimPart(mode)
console.log(`\nend — ${loadLine()}`)
process.exit(0)
