import { canTransitionRun } from "@helmr/migrations/queries/run-transitions"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow, RunStatus } from "@helmr/migrations/rows"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
import { dequeueRun, enqueueRun, publishRunMessage } from "@helmr/migrations/valkey"
import { releaseGate } from "../gate/gate.ts"
import type { RunnerDeps } from "./deps.ts"
import type { EventLog } from "./event-log.ts"
import { type AttemptOutcome, retryDelayMs, runRetryPolicy, shouldRetry } from "./outcome.ts"

/**
 * Why an attempt goes back to the queue without using up an attempt: its runner shut down, or its
 * container engine gave no answer before the task ran.
 */
export type RequeueReason = "runner shutdown" | "engine unavailable"

/**
 * Ends an attempt: either back to `queued` with a backoff (a retryable failure with attempts
 * left), back to `queued` at once without using up an attempt (a `RequeueReason`), or the final
 * status. Guarded by
 * runner and attempt, so a runner that lost the run changes nothing. Either way the run's
 * concurrency slot is free: a run parked behind it is woken.
 */
export async function finishAttempt(
  deps: RunnerDeps,
  run: RunRow,
  outcome: AttemptOutcome,
  events: EventLog,
  requeue: RequeueReason | null,
): Promise<void> {
  const guard = { runnerId: deps.runnerId, attempt: run.attempt }
  // A task may end while a wait it started is still pending (it stopped awaiting it): the run is
  // then `waiting`, still this attempt's. Each move lists only the states it may leave.
  const from = (to: RunStatus) =>
    (["starting", "running", "waiting"] as const).filter((s) => canTransitionRun(s, to))
  const brief = outcome.error ? { name: outcome.error.name, message: outcome.error.message } : null
  if (requeue && outcome.status !== "succeeded") {
    const requeued = await transitionRun(
      deps.sql,
      run.id,
      from("queued"),
      "queued",
      { runnerId: null, leaseExpiresAt: null, attempt: run.attempt - 1, availableAt: new Date() },
      {
        reason: requeue,
        attempt: run.attempt,
        ...(requeue === "engine unavailable" ? { error: brief } : {}),
      },
      guard,
    )
    if (requeued) await enqueueRun(deps.valkey, deps.keys, run.id)
    await releaseGate(deps, run)
    return
  }
  if (shouldRetry(outcome, run.attempt, run.maxAttempts)) {
    const delay = retryDelayMs(run.attempt, runRetryPolicy(deps.retry, run.retry))
    const availableAt = new Date(Date.now() + delay)
    events.add({
      type: "log",
      level: "warn",
      message: `attempt ${run.attempt} of ${run.maxAttempts} ${outcome.status}: ${brief?.name}: ${brief?.message}; retrying in ${(delay / 1000).toFixed(1)}s`,
      data: { attempt: run.attempt },
    })
    await events.flush()
    const requeued = await transitionRun(
      deps.sql,
      run.id,
      from("queued"),
      "queued",
      { error: outcome.error, runnerId: null, leaseExpiresAt: null, availableAt },
      {
        reason: "retry",
        attempt: run.attempt,
        outcome: outcome.status,
        error: brief,
        retryInMs: delay,
      },
      guard,
    )
    if (requeued) await enqueueRun(deps.valkey, deps.keys, run.id, availableAt)
    await releaseGate(deps, run)
    await publish(deps, run.id)
    return
  }
  await events.flush()
  const patch =
    outcome.status === "succeeded"
      ? { output: outcome.output, error: undefined, leaseExpiresAt: null }
      : { error: outcome.error, leaseExpiresAt: null }
  // Only a running (or waiting) task can succeed (run-transitions.ts); other ends may also come
  // from starting.
  const done = await transitionRun(
    deps.sql,
    run.id,
    from(outcome.status),
    outcome.status,
    patch,
    {
      attempt: run.attempt,
      ...(brief ? { error: brief } : {}),
    },
    guard,
  )
  // The queue entry is this attempt's only while the run ended here. A run the guard refused was
  // taken from this runner (a sweep requeued it, another runner holds it): its entry is the
  // next attempt's, and taking it out would leave the run queued where no runner leases it.
  if (done || (await hasEnded(deps, run.id))) await dequeueRun(deps.valkey, deps.keys, run.id)
  await releaseGate(deps, run)
  await publish(deps, run.id)
  // With a retention the workspace sweep removes it later (workspace-sweep.ts).
  if (done && !deps.keepWorkspaces && deps.workspaceRetentionMs === 0) {
    await removeIdleWorkspace(deps, run.sessionId)
  }
}

/** Whether the run is in a final status (ended elsewhere: canceled, expired) or gone. */
async function hasEnded(deps: RunnerDeps, runId: string): Promise<boolean> {
  const [row] = await deps.sql<{ status: RunStatus }[]>`select status from runs where id = ${runId}`
  return row === undefined || FINAL_RUN_STATUSES.includes(row.status)
}

async function publish(deps: RunnerDeps, runId: string): Promise<void> {
  await publishRunMessage(deps.valkey, deps.keys, runId, "status").catch(() => 0)
}

/** A session's workspace goes when no run of the session is still going. */
async function removeIdleWorkspace(deps: RunnerDeps, sessionId: string): Promise<void> {
  const [active] = await deps.sql`
    select 1 from runs
    where session_id = ${sessionId} and status not in ${deps.sql(FINAL_RUN_STATUSES as string[])}
    limit 1`
  if (!active) await deps.driver.removeWorkspace(sessionId)
}
