import type { RunnerDeps } from "./deps.ts"

/**
 * Removes this runner's sandboxes whose attempt is over: the run ended, went back to the queue,
 * or moved on to another attempt or runner. Normally an attempt removes its own sandbox when it
 * ends; this catches the removals that failed (the Docker engine was restarting, say), so no
 * container is left behind for good. Sandboxes of a live attempt (starting, running, or waiting
 * and adoptable) are never touched.
 */
export async function sweepSandboxes(deps: RunnerDeps): Promise<number> {
  const records = await deps.driver.listSandboxes()
  if (records.length === 0) return 0
  const runIds = [...new Set(records.map((r) => r.runId))]
  const live = await deps.sql<{ id: string; attempt: number }[]>`
    select id, attempt from runs
    where id = any(${runIds}::text[]) and runner_id = ${deps.runnerId}
      and status in ('starting', 'running', 'waiting')`
  const keep = new Set(live.map((r) => `${r.id}:${r.attempt}`))
  const stale = records.filter((r) => !keep.has(`${r.runId}:${r.attempt}`))
  if (stale.length > 0) await deps.driver.removeSandboxes(stale.map((r) => r.id))
  return stale.length
}
