import { loadavg } from "node:os"
import type { Sql } from "@helmr/migrations/db"
import { waitForRun } from "@helmr/runner/testing/deployments"
import { flowBundle, flowManifest } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"

/**
 * bench/concurrency: how fast a concurrency slot is handed on. N runs of one gate with limit 1
 * are triggered at once; each handoff is the time from a run leaving `running` (its final
 * transition) to the next run of the gate being claimed (`starting`). Baseline, same run: an idle
 * runner picking up a run just triggered into an unlimited queue (trigger → `starting`), the
 * path a woken run takes after it is put back at the front of the queue. Local driver, one
 * runner, HELMR_RUNNER_POLL_MS 50 (the pickup is polled until push pickup lands).
 *
 *   bun bench/concurrency/main.ts [runs=40]
 */

function summarize(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  return { count: sorted.length, p50: at(0.5) ?? 0, p99: at(0.99) ?? 0, max: sorted.at(-1) ?? 0 }
}
const ms = (value: number) => `${value.toFixed(1)} ms`

const runs = Number(process.argv[2] ?? (process.env.CI === "true" ? 8 : 40))

const h = await startRunnerHarness("h11bench", {
  HELMR_SANDBOX_DRIVER: "local",
  HELMR_RUNNER_CONCURRENCY: "4",
  HELMR_RUNNER_POLL_MS: "50",
  HELMR_RUNNER_LEASE_MS: "30000",
})

async function startingAt(sql: Sql, runId: string): Promise<number> {
  const [row] = await sql<{ at: Date }[]>`
    select created_at as at from run_events
    where run_id = ${runId} and type = 'transition' and data ->> 'to' = 'starting'
    order by id limit 1`
  if (!row) throw new Error(`run ${runId} never started`)
  return row.at.getTime()
}

try {
  const deploymentId = await h.deploy({ bundle: await flowBundle(), manifest: flowManifest() })
  const slow = (extra: Record<string, unknown>) =>
    h.trigger({ deploymentId, taskId: "slow", payload: { ms: 50 }, ...extra })
  // Warm-up: the local driver writes the code once per deployment.
  await waitForRun(h.db.sql, (await slow({})).id, ["succeeded"], 60_000)

  const pickups: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now()
    const run = await slow({})
    await waitForRun(h.db.sql, run.id, ["succeeded"], 60_000)
    pickups.push((await startingAt(h.db.sql, run.id)) - t0)
  }

  const started = Date.now()
  const gated = await Promise.all(
    Array.from({ length: runs }, () => slow({ queue: "bench-gate", concurrencyLimit: 1 })),
  )
  for (const run of gated) await waitForRun(h.db.sql, run.id, ["succeeded"], 120_000)
  const elapsed = Date.now() - started
  const rows = await h.db.sql<{ id: string; finishedAt: Date }[]>`
    select id, finished_at from runs where id in ${h.db.sql(gated.map((r) => r.id))}`
  const timeline = await Promise.all(
    rows.map(async (r) => ({
      start: await startingAt(h.db.sql, r.id),
      end: r.finishedAt.getTime(),
    })),
  )
  timeline.sort((a, b) => a.start - b.start)
  const handoffs: number[] = []
  let overlaps = 0
  for (let i = 1; i < timeline.length; i++) {
    const gap = (timeline[i]?.start ?? 0) - (timeline[i - 1]?.end ?? 0)
    if (gap < 0) overlaps++
    handoffs.push(gap)
  }
  const [one, five] = loadavg()
  const line = (name: string, values: number[]) => {
    const s = summarize(values)
    return `${name.padEnd(44)} median ${ms(s.p50).padStart(9)}   p99 ${ms(s.p99).padStart(9)}   max ${ms(s.max).padStart(9)}   n=${s.count}`
  }
  console.log(
    `bench/concurrency: ${runs} runs of 50 ms, load ${one?.toFixed(2)} ${five?.toFixed(2)}`,
  )
  console.log(line("baseline: idle pickup (trigger → starting)", pickups))
  console.log(line("gate handoff (previous final → next starting)", handoffs))
  console.log(
    `gate throughput: ${((runs / elapsed) * 1000).toFixed(1)} runs/s at limit 1; overlaps: ${overlaps}`,
  )
} finally {
  await h.stop()
}
