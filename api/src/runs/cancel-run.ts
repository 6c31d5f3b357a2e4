import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { dequeueRun } from "@helmr/migrations/valkey"
import type { ApiDeps } from "../env.ts"
import { ApiError, notFound } from "../errors.ts"
import type { RunNotifier } from "./run-notifier.ts"

/**
 * Cancels a run of the environment.
 * - `queued` (delayed or not) and `waiting` (no task code runs): canceled at once, in Postgres
 *   by compare-and-set, then removed from the Valkey queue.
 * - `starting` / `running`: a process owned by a runner exists, so the runner ends it. The API
 *   sets `runs.cancel_requested_at`, records a `cancel_requested` event and publishes `cancel` on
 *   `keys.runChannel(runId)`; the runner aborts `ctx.signal`, stops the sandbox and moves the run
 *   to `canceled` (it also sees the column on its next heartbeat if it missed the message).
 * - already `canceled`: returned as is (cancel is idempotent); other final statuses: 409.
 */
export async function cancelRun(
  deps: ApiDeps,
  notifier: RunNotifier,
  environmentId: string,
  runId: string,
): Promise<RunRow> {
  // A concurrent transition can move the run between our read and our write; retry on the
  // status it moved to.
  for (let round = 0; round < 5; round++) {
    const [run] = await deps.sql<RunRow[]>`
      select * from runs where id = ${runId} and environment_id = ${environmentId}`
    if (!run) throw notFound(`run ${runId}`)
    switch (run.status) {
      case "queued":
      case "waiting": {
        const canceled = await transitionRun(
          deps.sql,
          runId,
          [run.status],
          "canceled",
          { leaseExpiresAt: null },
          { reason: "canceled through the API" },
        )
        if (!canceled) continue
        await dequeueRun(deps.valkey, deps.keys, runId).catch((error: unknown) => {
          deps.logger.warn({ err: error, runId }, "dequeue failed; the runner skips canceled runs")
        })
        await notifier.publish(runId, "canceled")
        return canceled
      }
      case "starting":
      case "running": {
        const requested = await requestCancel(deps, runId, run.status)
        if (!requested) continue
        await notifier.publish(runId, "cancel")
        return requested
      }
      case "canceled":
        return run
      case "succeeded":
      case "failed":
      case "timed_out":
      case "crashed":
      case "expired":
        throw new ApiError(409, "conflict", `run ${runId} already finished: ${run.status}`, {
          status: run.status,
        })
      default:
        return assertNever(run.status)
    }
  }
  throw new ApiError(409, "conflict", `run ${runId} kept changing status; try again`)
}

/** Marks the cancel request once (idempotent), with an event the first time. */
async function requestCancel(
  deps: ApiDeps,
  runId: string,
  status: "starting" | "running",
): Promise<RunRow | null> {
  return deps.sql.begin(async (tx) => {
    const [row] = await tx<(RunRow & { first: boolean })[]>`
      update runs set
        cancel_requested_at = coalesce(cancel_requested_at, now()),
        updated_at = now()
      where id = ${runId} and status = ${status}
      returning *, (cancel_requested_at = now()) as first`
    if (!row) return null
    if (row.first) {
      await tx`insert into run_events (run_id, type, data)
        values (${runId}, 'cancel_requested', ${tx.json({ status })})`
    }
    const { first: _first, ...run } = row
    return run
  })
}

function assertNever(value: never): never {
  throw new Error(`unexpected run status ${String(value)}`)
}
