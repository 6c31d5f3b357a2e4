import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { dequeueRun, enqueueRun } from "@helmr/migrations/valkey"
import { releaseGate } from "../gate/gate.ts"
import type { RunnerDeps } from "./deps.ts"
import { retryDelayMs, runRetryPolicy } from "./outcome.ts"

/**
 * Runs whose runner died are never left `starting`/`running`: once their lease lapsed (or at once,
 * when the runner that owned them restarts) they are retried if attempts are left, else `crashed`.
 * The guard (same runner, same attempt, lease still lapsed) makes this safe against the owner
 * coming back and against another runner doing the same. The run's concurrency slot comes back
 * with it: a run parked behind it is woken.
 */
export async function recoverStaleRun(
  deps: RunnerDeps,
  run: RunRow,
  cause: "lease expired" | "runner restarted",
): Promise<"retried" | "crashed" | null> {
  const error = {
    name: "RunnerLostError",
    message: `runner ${run.runnerId ?? "?"} stopped during attempt ${run.attempt} (${cause})`,
  }
  const guard = {
    runnerId: run.runnerId,
    attempt: run.attempt,
    ...(cause === "lease expired" ? { leaseExpiredBefore: new Date() } : {}),
  }
  const from = ["starting", "running"] as const
  if (run.attempt < run.maxAttempts) {
    const delay = retryDelayMs(run.attempt, runRetryPolicy(deps.retry, run.retry))
    const availableAt = new Date(Date.now() + delay)
    const row = await transitionRun(
      deps.sql,
      run.id,
      from,
      "queued",
      { error, runnerId: null, leaseExpiresAt: null, availableAt },
      { reason: "retry", cause, attempt: run.attempt, error, retryInMs: delay },
      guard,
    )
    if (!row) return null
    await enqueueRun(deps.valkey, deps.keys, run.id, availableAt)
    await releaseGate(deps, run)
    return "retried"
  }
  const row = await transitionRun(
    deps.sql,
    run.id,
    from,
    "crashed",
    { error, leaseExpiresAt: null },
    { cause, attempt: run.attempt, error },
    guard,
  )
  if (!row) return null
  await dequeueRun(deps.valkey, deps.keys, run.id)
  await releaseGate(deps, run)
  return "crashed"
}

/** After a restart: every run this runner id still holds died with the previous process. */
export async function recoverOwnRuns(deps: RunnerDeps): Promise<number> {
  const runs = await deps.sql<RunRow[]>`
    select * from runs where runner_id = ${deps.runnerId} and status in ('starting', 'running')`
  let recovered = 0
  for (const run of runs) {
    if (await recoverStaleRun(deps, run, "runner restarted")) recovered += 1
  }
  return recovered
}

/**
 * Finds runs whose lease lapsed even if their queue entry is gone (Valkey lost it). `live`: runs
 * with an attempt in this very process, which are not lost whatever their lease says.
 */
export async function sweepStaleRuns(
  deps: RunnerDeps,
  live: ReadonlySet<string> = new Set(),
  limit = 100,
): Promise<number> {
  const runs = await deps.sql<RunRow[]>`
    select * from runs
    where status in ('starting', 'running') and lease_expires_at < now()
    order by lease_expires_at
    limit ${limit}`
  let recovered = 0
  for (const run of runs) {
    if (run.runnerId === deps.runnerId && live.has(run.id)) continue
    if (await recoverStaleRun(deps, run, "lease expired")) recovered += 1
  }
  return recovered
}
