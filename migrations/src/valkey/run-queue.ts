import type { Result } from "ioredis"
import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"
import { defineScripts, readLuaScript } from "./scripts.ts"

/**
 * The run queue: a sorted set of run ids scored by the time each may start. Postgres holds the
 * truth (runs.status, available_at); this is the fast index runners lease from. Every operation
 * is idempotent, so the API, the dispatcher's repair and retries can all call it freely. The
 * runner's heartbeat (extending a lease) is the runner's own (runner/src/run/run-lease.ts).
 *
 * Runners do not poll it: every enqueue publishes the earliest score it wrote on `runWake`, and a
 * lease answers when the next run comes due, so an idle runner sleeps until one or the other.
 */

const ENQUEUE_RUNS = readLuaScript(
  import.meta.dirname,
  "lua/enqueue-runs-1.lua",
  "helmrEnqueueRuns",
)
const LEASE_RUNS = readLuaScript(import.meta.dirname, "lua/lease-runs-1.lua", "helmrLeaseRuns")

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrEnqueueRuns(
      queue: string,
      channel: string,
      mode: "NX" | "",
      ...pairs: (string | number)[]
    ): Result<number, Context>
    helmrLeaseRuns(
      queue: string,
      now: number,
      leaseMs: number,
      limit: number,
    ): Result<[string[], string | null], Context>
  }
}

/** Makes a run leasable from `availableAt` on (now when omitted), and wakes the runners. */
export async function enqueueRun(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  availableAt: Date = new Date(),
): Promise<void> {
  await enqueueRuns(valkey, keys, [{ id: runId, availableAt }])
}

/**
 * Makes many runs leasable, each from its `availableAt`, in one round trip (a batch trigger, a
 * fire), and wakes the runners. `onlyMissing` adds only runs not in the queue (ZADD NX: repair
 * must not cut a runner's lease short); it returns how many were added.
 */
export async function enqueueRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  runs: readonly { id: string; availableAt: Date }[],
  options: { onlyMissing?: boolean } = {},
): Promise<number> {
  if (runs.length === 0) return 0
  defineScripts(valkey, [ENQUEUE_RUNS])
  const pairs = runs.flatMap((r) => [r.availableAt.getTime(), r.id])
  return valkey.helmrEnqueueRuns(
    keys.runQueue,
    keys.runWake,
    options.onlyMissing ? "NX" : "",
    ...pairs,
  )
}

/** Leases up to `limit` runs due at `now` for `leaseMs`. */
export async function leaseRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  options: { now?: number; leaseMs: number; limit: number },
): Promise<string[]> {
  return (await leaseRunBatch(valkey, keys, options)).runIds
}

export interface LeasedRuns {
  runIds: string[]
  /** Epoch ms at which the earliest run left in the queue comes due (null: the queue is empty). */
  nextDueAt: number | null
}

/** leaseRuns, also saying when the queue has its next due run: the runner's idle wait ends then. */
export async function leaseRunBatch(
  valkey: Valkey,
  keys: ValkeyKeys,
  options: { now?: number; leaseMs: number; limit: number },
): Promise<LeasedRuns> {
  defineScripts(valkey, [LEASE_RUNS])
  const [runIds, next] = await valkey.helmrLeaseRuns(
    keys.runQueue,
    options.now ?? Date.now(),
    options.leaseMs,
    options.limit,
  )
  return { runIds, nextDueAt: next === null ? null : Number(next) }
}

/** The epoch ms a wake-up message names (the earliest run it enqueued), or null if malformed. */
export function parseRunWake(message: string): number | null {
  const at = Number(message)
  return Number.isFinite(at) ? at : null
}

/** Removes a run from the queue (it finished, or it is no longer queued in Postgres). */
export async function dequeueRun(valkey: Valkey, keys: ValkeyKeys, runId: string): Promise<void> {
  await valkey.zrem(keys.runQueue, runId)
}

/** Removes many runs from the queue in one command. */
export async function dequeueRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  runIds: readonly string[],
): Promise<void> {
  if (runIds.length > 0) await valkey.zrem(keys.runQueue, ...runIds)
}
