import { enqueueRuns, timerMember } from "@helmr/migrations/valkey"
import type { EngineDeps } from "./deps.ts"

/**
 * Puts back what a flushed or lagging Valkey lacks from Postgres: queued runs missing from the
 * run queue (at their available_at, so a delay or a retry backoff is kept) and timers missing
 * from the timers set. Only ever adds (ZADD NX): a run a runner holds leased keeps its lease.
 * Held scheduled runs (overlap, held-runs.ts) stay out of the queue until released: a released
 * run whose enqueue failed is then missing, and put back here at its (released) available_at.
 */

const PAGE = 1_000

export async function repairRunQueue(deps: EngineDeps): Promise<number> {
  let added = 0
  for (let after = ""; ; ) {
    const page = await deps.sql<{ id: string; availableAt: Date }[]>`
      select id, available_at from runs
      where status = 'queued' and not held and id > ${after}
      order by id limit ${PAGE}`
    if (page.length === 0) break
    after = (page[page.length - 1] as { id: string }).id
    const scores = await deps.valkey.zmscore(deps.keys.runQueue, ...page.map((r) => r.id))
    const missing = page.filter((_, i) => scores[i] === null || scores[i] === undefined)
    if (missing.length === 0) continue
    // A second look: a runner may have started and finished one of them meanwhile.
    const still = await deps.sql<{ id: string; availableAt: Date }[]>`
      select id, available_at from runs
      where id = any(${missing.map((r) => r.id)}::text[]) and status = 'queued' and not held`
    // NX, and the runners are woken for what was put back.
    added += await enqueueRuns(deps.valkey, deps.keys, still, { onlyMissing: true })
  }
  return added
}

export async function repairTimers(deps: EngineDeps): Promise<number> {
  let added = 0
  const sources = [
    (after: string) => deps.sql<{ id: string; dueAt: Date }[]>`
      select id, resume_at as due_at from waitpoints
      where status = 'pending' and kind = 'timer' and resume_at is not null and id > ${after}
      order by id limit ${PAGE}`,
    (after: string) => deps.sql<{ id: string; dueAt: Date }[]>`
      select id, expires_at as due_at from runs
      where status = 'queued' and expires_at is not null and id > ${after}
      order by id limit ${PAGE}`,
  ] as const
  for (const [index, source] of sources.entries()) {
    const kind = index === 0 ? "wait" : "expire"
    for (let after = ""; ; ) {
      const page = await source(after)
      if (page.length === 0) break
      after = (page[page.length - 1] as { id: string }).id
      const members = page.map((row) => timerMember(kind, row.id))
      const scores = await deps.valkey.zmscore(deps.keys.timers, ...members)
      for (const [i, row] of page.entries()) {
        if (scores[i] !== null && scores[i] !== undefined) continue
        added += Number(
          await deps.valkey.zadd(deps.keys.timers, "NX", row.dueAt.getTime(), members[i] as string),
        )
      }
    }
  }
  return added
}
