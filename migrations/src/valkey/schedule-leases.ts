import type { Result } from "ioredis"
import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"

/**
 * Leasing of schedule entries (schedule-entries.ts writes them). Leasing moves an entry's
 * `scheduleDue` score to the lease deadline, so the entry of a dispatcher that dies becomes due
 * again by itself; completing a lease is a compare-and-set on the entry's token, so a lease that
 * an API write, a repair or another dispatcher has overtaken changes nothing. Postgres stays the
 * fence for the fire itself; these only keep the hint consistent.
 */

// KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash
// ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] limit
// Returns a flat list id1, token1, id2, token2, … of the entries leased; a due member without a
// token (never written by these scripts) is dropped.
const LEASE_SCHEDULE_ENTRIES = `
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
local out = {}
for _, id in ipairs(due) do
  local token = redis.call('HGET', KEYS[2], id)
  if token then
    redis.call('ZADD', KEYS[1], 'XX', deadline, id)
    out[#out + 1] = id
    out[#out + 1] = token
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`

// KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash
// ARGV: groups of 4 — id, expected token ('' = no entry), new token ('' = remove), new score
// For each group: applies the change only if the entry's token is the expected one.
// Returns one 1 (applied) or 0 (token differed: someone else changed the entry) per group.
const SWAP_SCHEDULE_ENTRIES = `
local out = {}
for i = 1, #ARGV, 4 do
  local id = ARGV[i]
  local current = redis.call('HGET', KEYS[2], id) or ''
  if current == ARGV[i + 1] then
    if ARGV[i + 2] == '' then
      redis.call('HDEL', KEYS[2], id)
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('HSET', KEYS[2], id, ARGV[i + 2])
      redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 3]), id)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`

// KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash; ARGV: member ids
// Removes the members that have no token (an entry is always written as token + member at once).
// Returns how many were removed.
const DROP_ORPHAN_MEMBERS = `
local removed = 0
for _, id in ipairs(ARGV) do
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], id)
  end
end
return removed
`

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
  if (typeof valkey.helmrLeaseScheduleEntries === "function") return
  valkey.defineCommand("helmrLeaseScheduleEntries", {
    numberOfKeys: 2,
    lua: LEASE_SCHEDULE_ENTRIES,
  })
  valkey.defineCommand("helmrSwapScheduleEntries", { numberOfKeys: 2, lua: SWAP_SCHEDULE_ENTRIES })
  valkey.defineCommand("helmrDropOrphanMembers", { numberOfKeys: 2, lua: DROP_ORPHAN_MEMBERS })
}

/** What an entry stands for: the instance version and slot, and failed fire attempts so far. */
export interface EntryToken {
  version: string
  slot: Date
  attempt: number
}

/** `<version>:<slot ms>` — the form putScheduleEntry writes — or with `:<attempt>` after a failure. */
export function formatEntryToken(version: string | number, slot: Date, attempt = 0): string {
  const base = `${version}:${slot.getTime()}`
  return attempt > 0 ? `${base}:${attempt}` : base
}

export function parseEntryToken(token: string): EntryToken | null {
  const match = /^(\d+):(-?\d+)(?::(\d+))?$/.exec(token)
  if (!match) return null
  return {
    version: match[1] as string,
    slot: new Date(Number(match[2])),
    attempt: match[3] ? Number(match[3]) : 0,
  }
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
