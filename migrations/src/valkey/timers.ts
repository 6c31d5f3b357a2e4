import type { Result } from "ioredis"
import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"

/**
 * Timers the dispatcher acts on when they come due: a timed wait's resume time
 * (`wait:<waitpoint id>`) and a queued run's ttl (`expire:<run id>`). Writers (the runner when a
 * task waits, the API when a run has a ttl) call putTimer after their Postgres write commits; the
 * dispatcher also finds due timers in Postgres and rebuilds this set from it, so a lost or missed
 * put only delays a timer. Leased like the run queue: the score moves to the lease deadline.
 */

export type TimerKind = "wait" | "expire"

export function timerMember(kind: TimerKind, id: string): string {
  return `${kind}:${id}`
}

export function parseTimerMember(member: string): { kind: TimerKind; id: string } | null {
  const match = /^(wait|expire):(.+)$/.exec(member)
  return match ? { kind: match[1] as TimerKind, id: match[2] as string } : null
}

// KEYS[1] timers zset; ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] limit.
// Returns the members leased: their score becomes the lease deadline (now + lease ms).
const LEASE_TIMERS = `
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', deadline, member)
end
return due
`

// KEYS[1] timers zset; ARGV[1] score the member must have (the lease deadline), ARGV[2] member.
// Removes a handled timer unless it was put again (another score) meanwhile. Returns 1 or 0.
const REMOVE_LEASED_TIMER = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if score and tonumber(score) == tonumber(ARGV[1]) then
  return redis.call('ZREM', KEYS[1], ARGV[2])
end
return 0
`

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrLeaseTimers(
      timers: string,
      now: number,
      leaseMs: number,
      limit: number,
    ): Result<string[], Context>
    helmrRemoveLeasedTimer(timers: string, score: number, member: string): Result<number, Context>
  }
}

function define(valkey: Valkey): void {
  if (typeof valkey.helmrLeaseTimers === "function") return
  valkey.defineCommand("helmrLeaseTimers", { numberOfKeys: 1, lua: LEASE_TIMERS })
  valkey.defineCommand("helmrRemoveLeasedTimer", { numberOfKeys: 1, lua: REMOVE_LEASED_TIMER })
}

/** Sets (or moves) a timer to come due at `dueAt`. */
export async function putTimer(
  valkey: Valkey,
  keys: ValkeyKeys,
  kind: TimerKind,
  id: string,
  dueAt: Date,
): Promise<void> {
  await valkey.zadd(keys.timers, dueAt.getTime(), timerMember(kind, id))
}

/** Leases up to `limit` timers due at `now`; a holder that dies lets them come due again. */
export async function leaseTimers(
  valkey: Valkey,
  keys: ValkeyKeys,
  options: { now: number; leaseMs: number; limit: number },
): Promise<string[]> {
  define(valkey)
  return valkey.helmrLeaseTimers(keys.timers, options.now, options.leaseMs, options.limit)
}

/** Removes a timer handled under a lease ending at `deadline`, unless it was put again since. */
export async function removeLeasedTimer(
  valkey: Valkey,
  keys: ValkeyKeys,
  member: string,
  deadline: number,
): Promise<boolean> {
  define(valkey)
  return (await valkey.helmrRemoveLeasedTimer(keys.timers, deadline, member)) === 1
}
