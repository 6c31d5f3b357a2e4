import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"
import { leaseDue } from "./lease-due.ts"

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
  return leaseDue(valkey, keys.timers, options)
}
