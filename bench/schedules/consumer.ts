/**
 * A runner without sandboxes, for bench/schedules and bench/peers: takes runs through the
 * runner's own queue, wake-up and claim code as runner/src/run/run-loop.ts does (`leaseRunBatch`,
 * `claimLeasedRuns`, `watchRunQueue`), holding up to CONCURRENCY runs at once, and completes each
 * claimed run as a no-op (starting → running → succeeded, a batch per statement). Starts no
 * container. PICKUP=poll makes it look at the queue every POLL_MS instead of waiting for wake-ups
 * (the runner's HELMR_RUNNER_PICKUP=poll baseline); BATCH caps the runs claimed per round trip
 * (default: the runner's own CLAIM_BATCH).
 *
 * Prints `lease <runId> <epoch ms>` when it holds a run's lease (the claim committed) and
 * `ready` once it waits on the queue; on SIGTERM, once drained, `cpu <ms> <ms>`: the CPU time it
 * used and that its Postgres backends used (-1 when unreadable). Env: HELMR_DATABASE_URL, HELMR_VALKEY_URL,
 * HELMR_KEY_PREFIX, HELMR_RUNNER_ID, CONCURRENCY (100), BATCH (CLAIM_BATCH), PICKUP (push), POLL_MS (50).
 */
import { readFileSync } from "node:fs"
import { createDb } from "@helmr/migrations/db"
import { transitionRunIds } from "@helmr/migrations/queries/runs"
import { createValkey, dequeueRuns, leaseRunBatch, valkeyKeys } from "@helmr/migrations/valkey"
import { releaseGate } from "@helmr/runner/gate/gate"
import { CLAIM_BATCH, claimLeasedRuns } from "@helmr/runner/run/claim"
import type { RunnerDeps } from "@helmr/runner/run/deps"
import { createPickupSignal } from "@helmr/runner/run/pickup-signal"
import { watchRunQueue } from "@helmr/runner/run/queue-wake"
import pino from "pino"

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is required`)
  return value
}
const concurrency = Number(env("CONCURRENCY", "100"))
const batchMax = Number(env("BATCH", String(Math.min(concurrency, CLAIM_BATCH))))
const push = env("PICKUP", "push") === "push"
const pollMs = Number(env("POLL_MS", "50"))
const sql = createDb(env("HELMR_DATABASE_URL"), { max: 10, applicationName: "bench-consumer" })
const valkey = createValkey(env("HELMR_VALKEY_URL"), { name: "bench-consumer" })
const keys = valkeyKeys(env("HELMR_KEY_PREFIX"))
const runnerId = env("HELMR_RUNNER_ID")
if (!runnerId.startsWith("h14")) throw new Error("HELMR_RUNNER_ID must start with h14")
const logger = pino({ level: "warn" })
const pickup = createPickupSignal()
// What the claim path reads; the sandbox parts of RunnerDeps are never reached by it.
const deps = {
  sql,
  valkey,
  keys,
  runnerId,
  leaseMs: 30_000,
  // The runner's default: a run parked behind a full gate is looked at again after 10 s, unless
  // a run of its gate ending wakes it first (releaseGate below).
  gateRecheckMs: 10_000,
  logger,
  pickup,
  parked: new Map(),
} as Partial<RunnerDeps> as RunnerDeps

const stop = new AbortController()
process.once("SIGTERM", () => stop.abort())
if (push) watchRunQueue(valkey, keys, pickup, logger, stop.signal)

let active = 0
const out: string[] = []
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.splice(0).join("\n")}\n`)
}

/** Claims a leased batch, reports its leases, completes it as no-ops, frees its slots. */
async function take(runIds: string[]): Promise<void> {
  try {
    const { claimed } = await claimLeasedRuns(deps, runIds)
    const at = Date.now()
    for (const run of claimed) out.push(`lease ${run.id} ${at}`)
    const items = claimed.map((r) => ({ runId: r.id, runnerId, expectAttempt: r.attempt }))
    // Both moves in one round trip: pipelined in one transaction, run in order; only the ids
    // come back (nothing here reads the finished rows).
    const [running] = await sql.begin((tx) =>
      Promise.all([
        transitionRunIds(tx, items, ["starting"], "running"),
        transitionRunIds(tx, items, ["running"], "succeeded", { output: null }),
      ]),
    )
    await dequeueRuns(valkey, keys, running)
    // As the runner's finish does: each run of a limited queue that ended wakes a parked one.
    const ended = new Set(running)
    await Promise.all(claimed.filter((r) => ended.has(r.id)).map((run) => releaseGate(deps, run)))
  } finally {
    active -= runIds.length
    pickup.nudge()
  }
}

/** CPU time (ms) this process used. */
function ownCpuMs(): number {
  const usage = process.cpuUsage()
  return Math.round((usage.user + usage.system) / 1000)
}

/**
 * CPU time (ms) of a Postgres backend of this machine, from /proc; -1 when it cannot be read
 * (Postgres on another host).
 */
function backendCpuMs(pid: number): number {
  try {
    // A backend pid of another PID namespace (Postgres in a container) names no postgres here.
    if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("postgres")) return -1
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
    return (Number(fields[11]) + Number(fields[12])) * (1000 / 100)
  } catch {
    return -1
  }
}

/** CPU time (ms) of the Postgres backends serving this process (its application name). */
async function postgresCpuMs(): Promise<number> {
  const backends = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where application_name = 'bench-consumer'`
  const each = backends.map((b) => backendCpuMs(b.pid))
  return each.some((ms) => ms < 0) ? -1 : each.reduce((a, b) => a + b, 0)
}

process.stdout.write("ready\n")
const timer = setInterval(flush, 100)
while (!stop.signal.aborted) {
  const free = Math.min(concurrency - active, batchMax)
  let leased: string[] = []
  let nextDueAt: number | null = null
  try {
    if (free > 0) {
      const batch = await leaseRunBatch(valkey, keys, { leaseMs: deps.leaseMs, limit: free })
      leased = batch.runIds
      nextDueAt = batch.nextDueAt
    }
  } catch (error) {
    process.stderr.write(`consumer: lease: ${String(error)}\n`)
  }
  if (leased.length > 0) {
    active += leased.length
    void take(leased).catch((error: unknown) =>
      process.stderr.write(`consumer: ${leased.length} runs: ${String(error)}\n`),
    )
    if (active < concurrency) continue
  }
  const wait = !push
    ? pollMs
    : active >= concurrency || nextDueAt === null
      ? 5_000
      : Math.max(0, nextDueAt - Date.now())
  await pickup.wait(Math.min(wait, 5_000), stop.signal)
}
while (active > 0) await Bun.sleep(10)
clearInterval(timer)
flush()
process.stdout.write(`cpu ${ownCpuMs()} ${await postgresCpuMs()}\n`)
await sql.end({ timeout: 2 })
valkey.disconnect()
process.exit(0)
