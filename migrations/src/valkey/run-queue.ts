import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"
import { leaseDue } from "./lease-due.ts"

/**
 * The run queue: a sorted set of run ids scored by the time each may start. Postgres holds the
 * truth (runs.status, available_at); this is the fast index runners lease from. Every operation
 * is idempotent, so the API, the dispatcher's repair and retries can all call it freely. The
 * runner's heartbeat (extending a lease) is the runner's own (runner/src/run/run-lease.ts).
 */

/** Makes a run leasable from `availableAt` on (now when omitted). */
export async function enqueueRun(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  availableAt: Date = new Date(),
): Promise<void> {
  await valkey.zadd(keys.runQueue, availableAt.getTime(), runId)
}

/** Makes many runs leasable, each from its `availableAt`, in one command (a batch trigger). */
export async function enqueueRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  runs: readonly { id: string; availableAt: Date }[],
): Promise<void> {
  if (runs.length === 0) return
  const args = runs.flatMap((r) => [r.availableAt.getTime(), r.id])
  await valkey.zadd(keys.runQueue, ...args)
}

/** Leases up to `limit` runs due at `now` for `leaseMs`. */
export async function leaseRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  options: { now?: number; leaseMs: number; limit: number },
): Promise<string[]> {
  return leaseDue(valkey, keys.runQueue, { ...options, now: options.now ?? Date.now() })
}

/** Removes a run from the queue (it finished, or it is no longer queued in Postgres). */
export async function dequeueRun(valkey: Valkey, keys: ValkeyKeys, runId: string): Promise<void> {
  await valkey.zrem(keys.runQueue, runId)
}
