import { formatEntryToken, parseEntryToken } from "@helmr/migrations/valkey"
import { nextOccurrence, ScheduleError } from "../schedule/calc.ts"
import type { EngineDeps } from "./deps.ts"
import {
  dropOrphanScheduleMembers,
  type EntrySwap,
  swapScheduleEntries,
} from "./schedule-leases.ts"

/**
 * Makes the schedule entries in Valkey what Postgres says they should be: an active instance
 * with a cursor has exactly the entry `<version>:<next_fire_at>` (a lease on it, or a retry
 * count, is kept); anything else has none. Every fix is a compare-and-set against the value read,
 * so a repair racing an API write or a fire never overwrites the newer of the two.
 */

const PAGE = 1_000

export interface ScheduleRepair {
  missing: number
  wrong: number
  extra: number
  orphans: number
  cursors: number
}

interface InstanceCursor {
  id: string
  version: string
  nextFireAt: Date | null
  cron: string
  timezone: string
}

const sameEntry = (token: string | null, version: string, next: Date) => {
  const parsed = token ? parseEntryToken(token) : null
  return parsed?.version === version && parsed.slot.getTime() === next.getTime()
}

export async function repairScheduleEntries(deps: EngineDeps): Promise<ScheduleRepair> {
  const result: ScheduleRepair = { missing: 0, wrong: 0, extra: 0, orphans: 0, cursors: 0 }
  // Postgres → Valkey: every active instance has its entry.
  for (let after = ""; ; ) {
    const page = await deps.sql<InstanceCursor[]>`
      select si.id, si.version, si.next_fire_at, s.cron, s.timezone
      from schedule_instances si join schedules s on s.id = si.schedule_id
      where si.active and si.id > ${after}
      order by si.id limit ${PAGE}`
    if (page.length === 0) break
    after = (page[page.length - 1] as InstanceCursor).id
    await fillCursors(deps, page, result)
    const ids = page.filter((p) => p.nextFireAt).map((p) => p.id)
    if (ids.length === 0) continue
    const [tokens, scores] = await Promise.all([
      deps.valkey.hmget(deps.keys.scheduleEntry, ...ids),
      deps.valkey.zmscore(deps.keys.scheduleDue, ...ids),
    ])
    const suspects = new Map<string, { token: string | null; missing: boolean }>()
    ids.forEach((id, i) => {
      const row = page.find((p) => p.id === id) as InstanceCursor
      const token = tokens[i] ?? null
      const inDue = scores[i] !== null && scores[i] !== undefined
      if (!token || !inDue) suspects.set(id, { token, missing: true })
      else if (!sameEntry(token, row.version, row.nextFireAt as Date))
        suspects.set(id, { token, missing: false })
    })
    if (suspects.size === 0) continue
    // A second look: a fire or an edit may have committed since the page was read.
    const fresh = await deps.sql<InstanceCursor[]>`
      select id, version, next_fire_at, '' as cron, '' as timezone from schedule_instances
      where id = any(${[...suspects.keys()]}::text[]) and active and next_fire_at is not null`
    const swaps: EntrySwap[] = []
    for (const row of fresh) {
      const before = page.find((p) => p.id === row.id)
      const suspect = suspects.get(row.id)
      if (!before || !suspect || before.version !== row.version) continue
      if (before.nextFireAt?.getTime() !== row.nextFireAt?.getTime()) continue
      const next = row.nextFireAt as Date
      swaps.push({
        instanceId: row.id,
        expected: suspect.token,
        next: { token: formatEntryToken(row.version, next), score: next.getTime() },
      })
      if (suspect.missing) result.missing++
      else result.wrong++
    }
    await swapScheduleEntries(deps.valkey, deps.keys, swaps)
  }
  // Valkey → Postgres: no entry for an instance that is gone, inactive or parked.
  let cursor = "0"
  do {
    const [next, flat] = await deps.valkey.hscan(deps.keys.scheduleEntry, cursor, "COUNT", PAGE)
    cursor = next
    const tokens = new Map<string, string>()
    for (let i = 0; i + 1 < flat.length; i += 2)
      tokens.set(flat[i] as string, flat[i + 1] as string)
    if (tokens.size === 0) continue
    const live = await deps.sql<{ id: string }[]>`
      select id from schedule_instances
      where id = any(${[...tokens.keys()]}::text[]) and active and next_fire_at is not null`
    const keep = new Set(live.map((r) => r.id))
    const extra = [...tokens].filter(([id]) => !keep.has(id))
    const applied = await swapScheduleEntries(
      deps.valkey,
      deps.keys,
      extra.map(([id, token]) => ({ instanceId: id, expected: token, next: null })),
    )
    result.extra += applied.filter(Boolean).length
  } while (cursor !== "0")
  // Due members without a token (never written so by Helmr, but cheap to clear).
  cursor = "0"
  do {
    const [next, flat] = await deps.valkey.zscan(deps.keys.scheduleDue, cursor, "COUNT", PAGE)
    cursor = next
    const ids = flat.filter((_, i) => i % 2 === 0)
    result.orphans += await dropOrphanScheduleMembers(deps.valkey, deps.keys, ids)
  } while (cursor !== "0")
  return result
}

/** Active instances without a cursor (an activation that did not compute one) get the next slot. */
async function fillCursors(
  deps: EngineDeps,
  page: InstanceCursor[],
  result: ScheduleRepair,
): Promise<void> {
  for (const row of page) {
    if (row.nextFireAt) continue
    let next: Date
    try {
      next = nextOccurrence(row.cron, row.timezone, new Date(deps.now()))
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error
      deps.logger.warn({ instanceId: row.id, err: error.message }, "instance cannot fire")
      continue
    }
    const [updated] = await deps.sql<{ nextFireAt: Date }[]>`
      update schedule_instances set next_fire_at = ${next}
      where id = ${row.id} and version = ${row.version} and active and next_fire_at is null
      returning next_fire_at`
    if (updated) {
      row.nextFireAt = updated.nextFireAt
      result.cursors++
    }
  }
}
