import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"

/**
 * One replaceable next-fire entry per active schedule instance: `scheduleDue` scores the instance
 * by its next fire, `scheduleEntry` says which version and slot that entry stands for. Writers (API
 * writes, promotion, successful fires, repair) call these directly; the dispatcher leases from them.
 */

export interface ScheduleEntry {
  instanceId: string
  /** schedule_instances.version the entry was computed from. */
  version: string | number
  nextFireAt: Date
}

/** Sets (or replaces) the next-fire entry of an instance. */
export async function putScheduleEntry(
  valkey: Valkey,
  keys: ValkeyKeys,
  entry: ScheduleEntry,
): Promise<void> {
  const slot = entry.nextFireAt.getTime()
  // A fresh token (no failed attempts): any lease taken on the previous entry is now stale.
  await valkey
    .multi()
    .hset(keys.scheduleEntry, entry.instanceId, formatEntryToken(entry.version, entry.nextFireAt))
    .zadd(keys.scheduleDue, slot, entry.instanceId)
    .exec()
}

/** Removes an instance's entry (deactivated or deleted). */
export async function removeScheduleEntry(
  valkey: Valkey,
  keys: ValkeyKeys,
  instanceId: string,
): Promise<void> {
  await valkey
    .multi()
    .zrem(keys.scheduleDue, instanceId)
    .hdel(keys.scheduleEntry, instanceId)
    .exec()
}

/** Reads an entry back: `{ version, slot }` or null. */
export async function readScheduleEntry(
  valkey: Valkey,
  keys: ValkeyKeys,
  instanceId: string,
): Promise<{ version: string; slot: Date } | null> {
  const raw = await valkey.hget(keys.scheduleEntry, instanceId)
  if (!raw) return null
  const [version, slot] = raw.split(":")
  if (!version || !slot) return null
  return { version, slot: new Date(Number(slot)) }
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
