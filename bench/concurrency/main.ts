import { loadavg } from "node:os"
import { ms, summarize } from "@helmr/bench-stats"
import type { Sql } from "@helmr/migrations/db"
import { waitForRun } from "@helmr/runner/testing/deployments"
import { flowBundle, flowManifest } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"
import { freePort, startRunnerProcess } from "@helmr/runner/testing/services"

/**
 * bench/concurrency: how fast a concurrency slot is handed on. N runs of one gate with limit 1
 * are triggered at once; each handoff is the time from a run leaving `running` (its final
 * transition) to the next run of the gate being claimed (`starting`). Baseline, same run: an idle
 * runner picking up a run just triggered into an unlimited queue (trigger → `starting`), the
 * path a woken run takes after it is put back at the front of the queue. Local driver,
 * HELMR_RUNNER_POLL_MS 50 (the pickup is polled until push pickup lands). Measured twice: one
 * runner (the releasing runner leases the woken run at once), then two runner processes with
 * one slot each, both healthy (`/healthz`) before the first trigger. Either may take the next
 * run (the releasing one at once, the other at its next poll); the line reports how many of the
 * ready runners took runs, so a figure from one runner is never mistaken for a cross-process one.
 *
 *   bun bench/concurrency/main.ts [runs=40]
 */

const runs = Number(process.argv[2] ?? (process.env.CI === "true" ? 8 : 40))

const h = await startRunnerHarness("h11bench", {
  HELMR_SANDBOX_DRIVER: "local",
  HELMR_RUNNER_CONCURRENCY: "4",
  HELMR_RUNNER_POLL_MS: "50",
  HELMR_RUNNER_LEASE_MS: "30000",
})

/** Until the runner process on `port` answers `/healthz` 200 (its run loop is started by then). */
async function waitHealthy(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (res) => res.ok,
      () => false,
    )
    if (ok) return
    await Bun.sleep(100)
  }
  throw new Error(`runner on port ${port} not healthy after ${timeoutMs} ms`)
}

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

  const measure = async (gate: string) => {
    const started = Date.now()
    const gated = await Promise.all(
      Array.from({ length: runs }, () => slow({ queue: gate, concurrencyLimit: 1 })),
    )
    for (const run of gated) await waitForRun(h.db.sql, run.id, ["succeeded"], 120_000)
    const elapsed = Date.now() - started
    const rows = await h.db.sql<{ id: string; finishedAt: Date; runnerId: string }[]>`
      select id, finished_at, runner_id from runs where id in ${h.db.sql(gated.map((r) => r.id))}`
    const timeline = await Promise.all(
      rows.map(async (r) => ({
        start: await startingAt(h.db.sql, r.id),
        end: r.finishedAt.getTime(),
        runner: r.runnerId,
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
    const runners = new Set(timeline.map((t) => t.runner)).size
    return { handoffs, overlaps, elapsed, runners }
  }
  const local = await measure("bench-gate")
  // Two runner processes, one slot each; the in-process loop stops.
  await h.stopLoop()
  const ports = [freePort(), freePort()]
  const processes = ports.map((port, n) =>
    startRunnerProcess(h, `${h.config.HELMR_RUNNER_ID}-${n}`, {
      HELMR_RUNNER_CONCURRENCY: "1",
      HELMR_RUNNER_PORT: String(port),
    }),
  )
  let crossProcess: Awaited<ReturnType<typeof measure>>
  try {
    // Both loops polling before the first trigger, or the scenario may measure one runner.
    await Promise.all(ports.map((port) => waitHealthy(port, 60_000)))
    crossProcess = await measure("bench-gate-2")
  } finally {
    for (const p of processes) p.kill("SIGTERM")
    await Promise.all(processes.map((p) => p.exited))
  }
  const [one, five] = loadavg()
  const line = (name: string, values: number[]) => {
    const s = summarize(values)
    return `${name.padEnd(58)} median ${ms(s.p50).padStart(9)}   p99 ${ms(s.p99).padStart(9)}   max ${ms(s.max).padStart(9)}   n=${s.count}`
  }
  console.log(
    `bench/concurrency: ${runs} runs of 50 ms, load ${one?.toFixed(2)} ${five?.toFixed(2)}`,
  )
  console.log(line("baseline: idle pickup (trigger → starting)", pickups))
  for (const [name, r, ready] of [
    ["one runner", local, 1],
    ["two runner processes", crossProcess, processes.length],
  ] as const) {
    console.log(line(`gate handoff, ${name} (final → next starting)`, r.handoffs))
    console.log(
      `  ${name}: ${((runs / r.elapsed) * 1000).toFixed(1)} runs/s at limit 1, runners ready ${ready}, runners that took runs ${r.runners}, overlaps ${r.overlaps}`,
    )
  }
} finally {
  await h.stop()
}
