import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"

/**
 * The run queue: a sorted set of run ids scored by the time each may start. Postgres holds the
 * truth (runs.status, available_at); this is the fast index runners lease from. Every operation
 * is idempotent, so the API, the dispatcher's repair and retries can all call it freely.
 */

// KEYS[1] queue; ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] limit.
// Returns the run ids leased: their score becomes the lease deadline.
const LEASE_RUNS = `
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', deadline, id)
end
return due
`

// KEYS[1] queue; ARGV[1] deadline ms, ARGV[2] run id. Extends a lease only if the run is queued.
const EXTEND_RUN_LEASE = `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]), ARGV[2])
  return 1
end
return 0
`

import type { Result } from "ioredis"

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrLeaseRuns(
      queue: string,
      now: number,
      leaseMs: number,
      limit: number,
    ): Result<string[], Context>
    helmrExtendRunLease(queue: string, deadline: number, runId: string): Result<number, Context>
  }
}

function define(valkey: Valkey): void {
  if (typeof valkey.helmrLeaseRuns === "function") return
  valkey.defineCommand("helmrLeaseRuns", { numberOfKeys: 1, lua: LEASE_RUNS })
  valkey.defineCommand("helmrExtendRunLease", { numberOfKeys: 1, lua: EXTEND_RUN_LEASE })
}

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
  define(valkey)
  return valkey.helmrLeaseRuns(
    keys.runQueue,
    options.now ?? Date.now(),
    options.leaseMs,
    options.limit,
  )
}

/** Heartbeat: pushes the lease deadline out; false when the entry is gone. */
export async function extendRunLease(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<boolean> {
  define(valkey)
  return (await valkey.helmrExtendRunLease(keys.runQueue, now + leaseMs, runId)) === 1
}

/** Removes a run from the queue (it finished, or it is no longer queued in Postgres). */
export async function dequeueRun(valkey: Valkey, keys: ValkeyKeys, runId: string): Promise<void> {
  await valkey.zrem(keys.runQueue, runId)
}
