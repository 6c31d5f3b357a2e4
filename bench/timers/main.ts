import { loadavg } from "node:os"
import { waitForRun } from "@helmr/runner/testing/deployments"
import { waitsBundle, waitsManifest } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"
import { startDispatcherProcess } from "@helmr/runner/testing/services"
import type { Subprocess } from "bun"

/**
 * bench/timers: how late `timers.wait` returns to task code, through the whole durable path
 * (runtime call → waitpoint + running→waiting → Valkey timer → dispatcher resume waiting→queued →
 * runner resume queued→running → reply). `runs` sandboxes wait `waits` times `ms` each, all at
 * once. Baselines measured in the same run, in the same sandboxes: `Bun.sleep(ms)` (an in-process
 * timer: the floor any wait has), and the dispatcher's own lateness (waitpoint `completed_at` −
 * `resume_at`, from Postgres).
 *
 *   bun bench/timers/main.ts [runs=8] [waits=10] [ms=1000]      (CI=true: 2 runs × 3 waits)
 */

const ci = process.env.CI === "true"
const runs = Number(process.argv[2] ?? (ci ? 2 : 8))
const waits = Number(process.argv[3] ?? (ci ? 3 : 10))
const ms = Number(process.argv[4] ?? 1000)

function line(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  return `${name.padEnd(44)} median ${at(0.5).toFixed(0).padStart(5)} ms   p99 ${at(0.99).toFixed(0).padStart(5)} ms   max ${(sorted.at(-1) ?? 0).toFixed(0).padStart(5)} ms   (n=${samples.length})`
}

const h = await startRunnerHarness("h10bbench", {
  HELMR_RUNNER_CONCURRENCY: String(Math.max(2, runs)),
  HELMR_RUNNER_LEASE_MS: "30000",
})
let dispatcher: Subprocess | null = null
try {
  dispatcher = await startDispatcherProcess(h)
  const deploymentId = await h.deploy({ bundle: await waitsBundle(), manifest: waitsManifest() })
  // Warm-up: builds the image, not measured.
  const warm = await h.trigger({ deploymentId, taskId: "quick" })
  await waitForRun(h.db.sql, warm.id, ["succeeded"], 300_000)

  const load = loadavg()
  const started = Date.now()
  const ids = await Promise.all(
    Array.from({ length: runs }, () =>
      h.trigger({ deploymentId, taskId: "timer-bench", payload: { waits, ms } }).then((r) => r.id),
    ),
  )
  const durable: number[] = []
  const sleep: number[] = []
  for (const id of ids) {
    const done = await waitForRun(h.db.sql, id, ["succeeded", "failed", "crashed"], 600_000)
    if (done.status !== "succeeded") throw new Error(`run ${id} ${done.status}`)
    const out = done.output as { durable: number[]; sleep: number[] }
    durable.push(...out.durable)
    sleep.push(...out.sleep)
  }
  const rows = await h.db.sql<{ late: number }[]>`
    select extract(epoch from (completed_at - resume_at)) * 1000 as late
    from waitpoints where kind = 'timer' and run_id in ${h.db.sql(ids)}`
  const after = loadavg()
  console.log(
    `bench/timers: ${runs} sandboxes × ${waits} waits of ${ms} ms at once, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  console.log(line("timers.wait → code after it (lateness)", durable))
  console.log(line("baseline: Bun.sleep in the same sandbox", sleep))
  console.log(
    line(
      "baseline: dispatcher completes the waitpoint",
      rows.map((r) => Number(r.late)),
    ),
  )
  console.log(
    `load average before ${load.map((l) => l.toFixed(2)).join(" ")}, after ${after.map((l) => l.toFixed(2)).join(" ")} (${navigator.hardwareConcurrency} cores)`,
  )
} finally {
  dispatcher?.kill("SIGTERM")
  await h.stop()
}
