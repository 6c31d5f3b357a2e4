import { claimQueuedRuns, type RunClaim, transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
import { dequeueRun, enqueueRun } from "@helmr/migrations/valkey"
import { claimManyThroughGate, claimThroughGate, releaseGate } from "../gate/gate.ts"
import { gateOf } from "../gate/gate-key.ts"
import type { RunnerDeps } from "./deps.ts"
import { recoverStaleRun } from "./recovery.ts"
import { extendRunLease } from "./run-lease.ts"

/**
 * The most runs leased and claimed in one round trip. A runner with more free slots leases the
 * rest in further batches at once, so one batch's claim overlaps the next one's lease and claim
 * (two Postgres backends, two cores) instead of every free slot waiting on one statement: 10,000
 * runs due at once reached a 100-slot consumer in 2.0 s instead of 3.1 s (bench/schedules/drain.ts,
 * 50 against 100 per batch; 25 per batch took 2.5 s, the statements' fixed cost).
 */
export const CLAIM_BATCH = 50

/** A leased run due within this much is claimed now (it would start at once anyway). */
const DUE_SLACK_MS = 1_000

/**
 * A run id leased from the queue becomes this runner's run only through Postgres: `queued` →
 * `starting` by compare-and-set, with the runner id, the lease deadline and the next attempt
 * number. Anything else a queue entry can point at is tidied here: finished or waiting runs leave
 * the queue, early entries move to their time, expired ones expire, and runs of a dead runner are
 * recovered. A run of a limited queue is claimed only through its concurrency gate. A queued run
 * that still names a runner is a waiting run coming back: `"resume"` when this runner holds its
 * sandbox, left to its runner while that one's lease lives, else a new attempt. Returns the
 * claimed run, "resume", or null.
 */
export async function claimLeasedRun(
  deps: RunnerDeps,
  runId: string,
): Promise<RunRow | "resume" | null> {
  const [run] = await deps.sql<RunRow[]>`select * from runs where id = ${runId}`
  return claimRow(deps, runId, run)
}

/**
 * claimLeasedRun for a batch leased together. The common case (a plain queued run: no runner, due,
 * not expired, no concurrency limit) is claimed in one statement without a read first
 * (claimQueuedRuns); the runs it did not move are read whole. Plain queued runs of a limited queue
 * are claimed gate by gate, each gate's in one transaction (claimManyThroughGate); the rest take
 * the one-by-one path above. Returns the claimed runs and the waiting runs of this runner to
 * resume; the rest were parked, tidied or left to others, as above.
 */
export async function claimLeasedRuns(
  deps: RunnerDeps,
  runIds: readonly string[],
): Promise<{ claimed: RunRow[]; resume: string[] }> {
  if (runIds.length === 0) return { claimed: [], resume: [] }
  const now = Date.now()
  const claim: RunClaim = {
    runnerId: deps.runnerId,
    leaseExpiresAt: new Date(now + deps.leaseMs),
    dueBy: new Date(now + DUE_SLACK_MS),
    now: new Date(now),
  }
  const claimed = await claimQueuedRuns(deps.sql, runIds, claim)
  const moved = new Set(claimed.map((r) => r.id))
  const others = runIds.filter((runId) => !moved.has(runId))
  // No lease extension for the claimed: the caller leased them a moment ago, and the heartbeat
  // takes over well before that lease ends. The one-by-one path extends its own.
  const resume: string[] = []
  const full =
    others.length === 0
      ? []
      : await deps.sql<RunRow[]>`select * from runs where id = any(${others}::text[])`
  const fullById = new Map(full.map((r) => [r.id, r]))
  const gated = new Map<string, { gate: Gate; runs: RunRow[] }>()
  const single: string[] = []
  for (const runId of others) {
    const run = fullById.get(runId)
    const gate = run && plainGated(run, now) ? gateOf(run) : null
    if (!run || !gate) {
      single.push(runId)
      continue
    }
    // Runs of one gate asking different limits (a deployment changed it) are counted apart.
    const key = `${gate.key}\n${gate.limit}`
    const group = gated.get(key) ?? { gate, runs: [] }
    group.runs.push(run)
    gated.set(key, group)
  }
  const settle = (runId: string, result: RunRow | "resume" | null) => {
    if (result === "resume") resume.push(runId)
    else if (result) claimed.push(result)
  }
  await Promise.all([
    ...single.map(async (runId) => settle(runId, await claimRow(deps, runId, fullById.get(runId)))),
    ...[...gated.values()].map(async ({ gate, runs }) => {
      const result = await claimGated(deps, gate, runs, claim)
      claimed.push(...result.claimed)
      // Someone moved some of them meanwhile: each is read afresh and sorted out on its own.
      await Promise.all(
        result.unsettled.map(async (run) => settle(run.id, await claimLeasedRun(deps, run.id))),
      )
    }),
  ])
  return { claimed, resume }
}

/** A queued run of a limited queue that its gate alone stands between and a claim. */
function plainGated(run: RunRow, now: number): boolean {
  return (
    run.status === "queued" &&
    run.runnerId === null &&
    run.concurrencyLimit !== null &&
    !(run.expiresAt && run.expiresAt.getTime() <= now) &&
    run.availableAt.getTime() <= now + DUE_SLACK_MS
  )
}

type Gate = NonNullable<ReturnType<typeof gateOf>>

/** Plain queued runs of one gate (and limit), claimed together up to its free slots. */
function claimGated(deps: RunnerDeps, gate: Gate, runs: readonly RunRow[], claim: RunClaim) {
  const [first] = runs
  if (!first) return Promise.resolve({ claimed: [], unsettled: [] })
  return claimManyThroughGate(deps, runs, gate, (tx, slots) =>
    claimQueuedRuns(
      tx,
      runs.map((r) => r.id),
      {
        ...claim,
        gate: {
          environmentId: first.environmentId,
          queue: gate.queue,
          concurrencyKey: first.concurrencyKey,
          limit: gate.limit,
          slots,
        },
      },
    ),
  )
}

async function claimRow(
  deps: RunnerDeps,
  runId: string,
  run: RunRow | undefined,
): Promise<RunRow | "resume" | null> {
  if (!run || FINAL_RUN_STATUSES.includes(run.status) || run.status === "waiting") {
    await dequeueRun(deps.valkey, deps.keys, runId)
    // It may have been woken for a slot it can no longer use: pass the wake-up on.
    if (run) await releaseGate(deps, run)
    return null
  }
  const now = Date.now()
  if (run.status === "starting" || run.status === "running") {
    if (run.leaseExpiresAt && run.leaseExpiresAt.getTime() < now) {
      const result = await recoverStaleRun(deps, run, "lease expired")
      deps.logger.info({ runId, result }, "recovered a run whose runner stopped")
    }
    return null
  }
  let cause: string | undefined
  if (run.runnerId) {
    // A waiting run that came back: its sandbox is alive at the runner that holds it.
    if (run.runnerId === deps.runnerId && deps.parked.get(runId)?.attempt === run.attempt) {
      return "resume"
    }
    if (
      run.runnerId !== deps.runnerId &&
      run.leaseExpiresAt &&
      run.leaseExpiresAt.getTime() > now
    ) {
      await enqueueRun(deps.valkey, deps.keys, runId, new Date(now + 1_000))
      return null
    }
    // Its sandbox is gone (the runner holding it died, or restarted without it): a new attempt,
    // in which the waits the lost attempt completed return at once.
    cause = "sandbox lost"
    if (run.attempt >= run.maxAttempts) {
      const error = {
        name: "SandboxLostError",
        message: `the sandbox of attempt ${run.attempt} was lost while the run waited (runner ${run.runnerId})`,
      }
      const crashed = await transitionRun(
        deps.sql,
        runId,
        ["queued"],
        "crashed",
        { error, leaseExpiresAt: null },
        { cause, attempt: run.attempt, error },
        { runnerId: run.runnerId, attempt: run.attempt },
      )
      if (crashed) await dequeueRun(deps.valkey, deps.keys, runId)
      return null
    }
  } else if (run.expiresAt && run.expiresAt.getTime() <= now) {
    const expired = await transitionRun(
      deps.sql,
      runId,
      ["queued"],
      "expired",
      {},
      { reason: "ttl" },
    )
    if (expired) await dequeueRun(deps.valkey, deps.keys, runId)
    return null
  }
  if (run.availableAt.getTime() > now + DUE_SLACK_MS) {
    await enqueueRun(deps.valkey, deps.keys, runId, run.availableAt)
    return null
  }
  const attempt = run.attempt + 1
  // Over its queue's concurrency limit the run stays queued (parked until a slot frees).
  const claimed = await claimThroughGate(deps, run, (tx) =>
    transitionRun(
      tx,
      runId,
      ["queued"],
      "starting",
      { runnerId: deps.runnerId, leaseExpiresAt: new Date(now + deps.leaseMs), attempt },
      { runnerId: deps.runnerId, attempt, ...(cause ? { cause } : {}) },
      { runnerId: run.runnerId, attempt: run.attempt },
    ),
  )
  if (claimed) await extendRunLease(deps.valkey, deps.keys, runId, deps.leaseMs)
  return claimed
}
