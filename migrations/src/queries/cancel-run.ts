import type { Sql } from "../db.ts"
import type { RunRow } from "../rows.ts"
import {
  dequeueRun,
  publishRunMessage,
  type RunChannelMessage,
  type Valkey,
  type ValkeyKeys,
} from "../valkey/index.ts"
import { transitionRun } from "./runs.ts"

/**
 * The one cancel path, shared by the API (`POST /runs/{id}/cancel`) and the dispatcher (overlap
 * `cancelPrevious`).
 * - `queued` (delayed, held or not) and `waiting` (no task code runs): canceled at once by
 *   compare-and-set, removed from the run queue, `canceled` published on the run's channel.
 * - `starting` / `running`: a runner owns a process, so the runner ends it: this sets
 *   `runs.cancel_requested_at` once, records a `cancel_requested` event and publishes `cancel`;
 *   the runner aborts `ctx.signal`, stops the sandbox and moves the run to `canceled` (it also
 *   reads the column on each heartbeat if it missed the message).
 * - already `canceled`: nothing to do; other final statuses: `finished`.
 */
export type CancelOutcome =
  | { kind: "canceled" | "requested" | "already"; run: RunRow }
  | { kind: "finished"; run: RunRow }
  | { kind: "missing" }
  | { kind: "busy" }

export async function cancelRunById(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  options: { environmentId?: string; reason: string },
): Promise<CancelOutcome> {
  // A concurrent transition can move the run between our read and our write: retry on the
  // status it moved to.
  for (let round = 0; round < 5; round++) {
    const [run] = await sql<RunRow[]>`
      select * from runs where id = ${runId}
        and (${options.environmentId === undefined} or environment_id = ${options.environmentId ?? ""})`
    if (!run) return { kind: "missing" }
    switch (run.status) {
      case "queued":
      case "waiting": {
        const canceled = await transitionRun(
          sql,
          runId,
          [run.status],
          "canceled",
          { leaseExpiresAt: null },
          { reason: options.reason },
        )
        if (!canceled) continue
        // The runner skips canceled runs anyway: a failed dequeue only leaves a dead entry.
        await dequeueRun(valkey, keys, runId).catch(() => {})
        await publish(valkey, keys, runId, "canceled")
        return { kind: "canceled", run: canceled }
      }
      case "starting":
      case "running": {
        const requested = await requestCancel(sql, runId, run.status)
        if (!requested) continue
        await publish(valkey, keys, runId, "cancel")
        return { kind: "requested", run: requested }
      }
      case "canceled":
        return { kind: "already", run }
      case "succeeded":
      case "failed":
      case "timed_out":
      case "crashed":
      case "expired":
        return { kind: "finished", run }
      default:
        return assertNever(run.status)
    }
  }
  return { kind: "busy" }
}

/** Marks the cancel request once (idempotent), with an event the first time. */
async function requestCancel(
  sql: Sql,
  runId: string,
  status: "starting" | "running",
): Promise<RunRow | null> {
  return sql.begin(async (tx) => {
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
  }) as Promise<RunRow | null>
}

/** Pub/sub is a hint (streams and runners also poll): a failed publish is not an error. */
async function publish(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  message: RunChannelMessage,
): Promise<void> {
  await publishRunMessage(valkey, keys, runId, message).catch(() => {})
}

function assertNever(value: never): never {
  throw new Error(`unexpected run status ${String(value)}`)
}
