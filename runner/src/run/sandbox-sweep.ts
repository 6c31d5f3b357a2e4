import type { RunnerDeps } from "./deps.ts"

/**
 * Removes this runner's sandboxes whose attempt is over: the run ended, went back to the queue,
 * or moved on to another attempt or runner. Normally an attempt removes its own sandbox when it
 * ends; this catches the removals that failed (the Docker engine was restarting, say), so no
 * container is left behind for good. A sandbox whose attempt is still the run's and the run has
 * not ended is never touched: starting, running, waiting, and queued too, since a run resumed
 * after a wait passes through `queued` with its sandbox alive.
 */
export async function sweepSandboxes(deps: RunnerDeps): Promise<number> {
  const records = await deps.driver.listSandboxes()
  if (records.length === 0) return 0
  const runIds = [...new Set(records.map((r) => r.runId))]
  const live = await deps.sql<{ id: string; attempt: number }[]>`
    select id, attempt from runs
    where id = any(${runIds}::text[])
      and status in ('queued', 'starting', 'running', 'waiting')`
  const keep = new Set(live.map((r) => `${r.id}:${r.attempt}`))
  const stale = records.filter((r) => !keep.has(`${r.runId}:${r.attempt}`))
  if (stale.length > 0) await deps.driver.removeSandboxes(stale.map((r) => r.id))
  return stale.length
}
