import {
  defineScripts,
  readLuaScript,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"
import type { Result } from "ioredis"

/**
 * The dispatcher's leasing of schedule entries (migrations/src/valkey/schedule-entries.ts writes
 * them; the scripts are the dispatcher's alone, in ./lua). Leasing moves an entry's
 * `scheduleDue` score to the lease deadline, so the entry of a dispatcher that dies becomes due
 * again by itself; completing a lease is a compare-and-set on the entry's token, so a lease that
 * an API write, a repair or another dispatcher has overtaken changes nothing. Postgres stays the
 * fence for the fire itself; these only keep the hint consistent.
 */

const SCRIPTS = [
  readLuaScript(
    import.meta.dirname,
    "lua/lease-schedule-entries-2.lua",
    "helmrLeaseScheduleEntries",
  ),
  readLuaScript(import.meta.dirname, "lua/swap-schedule-entries-2.lua", "helmrSwapScheduleEntries"),
  readLuaScript(import.meta.dirname, "lua/drop-orphan-members-2.lua", "helmrDropOrphanMembers"),
]

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrLeaseScheduleEntries(
      due: string,
      entry: string,
      now: number,
      leaseMs: number,
      limit: number,
    ): Result<string[], Context>
    helmrSwapScheduleEntries(
      due: string,
      entry: string,
      ...args: (string | number)[]
    ): Result<number[], Context>
    helmrDropOrphanMembers(due: string, entry: string, ...ids: string[]): Result<number, Context>
  }
}

function define(valkey: Valkey): void {
  defineScripts(valkey, SCRIPTS)
}

export interface LeasedEntry {
  instanceId: string
  /** The token at lease time: the expected value when completing the lease. */
  token: string
}

/** Leases up to `limit` entries due at `now` for `leaseMs`. */
export async function leaseScheduleEntries(
  valkey: Valkey,
  keys: ValkeyKeys,
  options: { now: number; leaseMs: number; limit: number },
): Promise<LeasedEntry[]> {
  define(valkey)
  const flat = await valkey.helmrLeaseScheduleEntries(
    keys.scheduleDue,
    keys.scheduleEntry,
    options.now,
    options.leaseMs,
    options.limit,
  )
  const out: LeasedEntry[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ instanceId: flat[i] as string, token: flat[i + 1] as string })
  }
  return out
}

export interface EntrySwap {
  instanceId: string
  /** The token the entry must still have; null: there must be no entry. */
  expected: string | null
  /** The entry to write (token and due score, epoch ms); null removes the entry. */
  next: { token: string; score: number } | null
}

/** Compare-and-set of many entries in one round trip; returns, per swap, whether it applied. */
export async function swapScheduleEntries(
  valkey: Valkey,
  keys: ValkeyKeys,
  swaps: readonly EntrySwap[],
): Promise<boolean[]> {
  if (swaps.length === 0) return []
  define(valkey)
  const out: boolean[] = []
  // Bounded argument lists keep each script call short; Valkey runs one script at a time.
  for (let start = 0; start < swaps.length; start += 500) {
    const args: (string | number)[] = []
    for (const swap of swaps.slice(start, start + 500)) {
      args.push(swap.instanceId, swap.expected ?? "", swap.next?.token ?? "", swap.next?.score ?? 0)
    }
    const applied = await valkey.helmrSwapScheduleEntries(
      keys.scheduleDue,
      keys.scheduleEntry,
      ...args,
    )
    for (const flag of applied) out.push(flag === 1)
  }
  return out
}

/** Removes due-set members that have no entry token; returns how many. */
export async function dropOrphanScheduleMembers(
  valkey: Valkey,
  keys: ValkeyKeys,
  instanceIds: readonly string[],
): Promise<number> {
  if (instanceIds.length === 0) return 0
  define(valkey)
  return valkey.helmrDropOrphanMembers(keys.scheduleDue, keys.scheduleEntry, ...instanceIds)
}

/** The earliest due score (a slot or a lease deadline), or null when there is no entry. */
export async function earliestScheduleDue(
  valkey: Valkey,
  keys: ValkeyKeys,
): Promise<number | null> {
  const [, score] = await valkey.zrange(keys.scheduleDue, 0, 0, "WITHSCORES")
  return score === undefined ? null : Number(score)
}
