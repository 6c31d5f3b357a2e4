import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
import { dequeueRun, enqueueRun } from "@helmr/migrations/valkey"
import { claimThroughGate, releaseGate } from "../gate/gate.ts"
import type { RunnerDeps } from "./deps.ts"
import { recoverStaleRun } from "./recovery.ts"
import { extendRunLease } from "./run-lease.ts"

/**
 * A run id leased from the queue becomes this runner's run only through Postgres: `queued` →
 * `starting` by compare-and-set, with the runner id, the lease deadline and the next attempt
 * number. Anything else a queue entry can point at is tidied here: finished or waiting runs leave
 * the queue, early entries move to their time, expired ones expire, and runs of a dead runner are
 * recovered. A run of a limited queue is claimed only through its concurrency gate. Returns the
 * claimed run, or null.
 */
export async function claimLeasedRun(deps: RunnerDeps, runId: string): Promise<RunRow | null> {
  const [run] = await deps.sql<RunRow[]>`select * from runs where id = ${runId}`
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
  if (run.expiresAt && run.expiresAt.getTime() <= now) {
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
  if (run.availableAt.getTime() > now + 1_000) {
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
      { runnerId: deps.runnerId, attempt },
    ),
  )
  if (claimed) await extendRunLease(deps.valkey, deps.keys, runId, deps.leaseMs)
  return claimed
}
