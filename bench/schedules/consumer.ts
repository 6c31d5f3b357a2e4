/**
 * A runner without sandboxes, for bench/schedules and bench/peers: leases runs through the
 * runner's own queue and claim code (`leaseRuns` + `claimLeasedRun`, as runner/src/run/run-loop.ts
 * does, up to CONCURRENCY at once, waiting POLL_MS when the queue is empty like the runner's
 * HELMR_RUNNER_POLL_MS), and completes each claimed run as a no-op (starting → running →
 * succeeded). Starts no container.
 *
 * Prints `lease <runId> <epoch ms>` when it holds a run's lease (the claim committed) and
 * `ready` once it polls. Env: HELMR_DATABASE_URL, HELMR_VALKEY_URL, HELMR_KEY_PREFIX,
 * HELMR_RUNNER_ID, CONCURRENCY (100), POLL_MS (50).
 */
import { createDb } from "@helmr/migrations/db"
import { transitionRun } from "@helmr/migrations/queries/runs"
import { createValkey, dequeueRun, leaseRuns, valkeyKeys } from "@helmr/migrations/valkey"
import { claimLeasedRun } from "@helmr/runner/run/claim"
import type { RunnerDeps } from "@helmr/runner/run/deps"
import pino from "pino"

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is required`)
  return value
}
const concurrency = Number(env("CONCURRENCY", "100"))
const pollMs = Number(env("POLL_MS", "50"))
const sql = createDb(env("HELMR_DATABASE_URL"), { max: 10, applicationName: "bench-consumer" })
const valkey = createValkey(env("HELMR_VALKEY_URL"), { name: "bench-consumer" })
const keys = valkeyKeys(env("HELMR_KEY_PREFIX"))
const runnerId = env("HELMR_RUNNER_ID")
if (!runnerId.startsWith("h14")) throw new Error("HELMR_RUNNER_ID must start with h14")
// What the claim path reads; the sandbox parts of RunnerDeps are never reached by it.
const deps = {
  sql,
  valkey,
  keys,
  runnerId,
  leaseMs: 30_000,
  logger: pino({ level: "warn" }),
} as Partial<RunnerDeps> as RunnerDeps

let stopping = false
process.once("SIGTERM", () => {
  stopping = true
})

const active = new Set<string>()
const out: string[] = []
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.splice(0).join("\n")}\n`)
}

async function take(runId: string): Promise<void> {
  const run = await claimLeasedRun(deps, runId)
  // "resume" is a waiting run coming back to its runner; this consumer never parks runs.
  if (!run || run === "resume") return
  out.push(`lease ${runId} ${Date.now()}`)
  const guard = { runnerId, attempt: run.attempt }
  await transitionRun(sql, runId, ["starting"], "running", {}, {}, guard)
  await transitionRun(sql, runId, ["running"], "succeeded", { output: null }, {}, guard)
  await dequeueRun(valkey, keys, runId)
}

process.stdout.write("ready\n")
const timer = setInterval(flush, 100)
while (!stopping) {
  const free = concurrency - active.size
  let leased: string[] = []
  if (free > 0) leased = await leaseRuns(valkey, keys, { leaseMs: deps.leaseMs, limit: free })
  for (const runId of leased) {
    if (active.has(runId)) continue
    active.add(runId)
    void take(runId)
      .catch((error: unknown) => process.stderr.write(`consumer: ${runId}: ${String(error)}\n`))
      .finally(() => active.delete(runId))
  }
  if (leased.length === 0 || active.size >= concurrency) await Bun.sleep(pollMs)
}
while (active.size > 0) await Bun.sleep(10)
clearInterval(timer)
flush()
await sql.end({ timeout: 2 })
valkey.disconnect()
process.exit(0)
