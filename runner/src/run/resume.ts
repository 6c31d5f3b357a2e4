import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { dequeueRun } from "@helmr/migrations/valkey"
import { claimThroughGate } from "../gate/gate.ts"
import type { SandboxRecord } from "../sandbox/driver.ts"
import { adoptAttempt } from "./attempt.ts"
import type { RunnerDeps } from "./deps.ts"
import { createSlot, type Slot } from "./parking.ts"

/**
 * Waiting runs coming back. A completed wait moves the run `waiting → queued` (dispatcher, API
 * or the child's final transition) and leaves `runner_id` set: the runner holding the sandbox
 * sees it here (a Postgres look at its parked runs, and the run queue), takes a slot and moves it
 * `queued → running` by compare-and-set; only then does the task get the wait's outcome.
 */

/** Parked runs of this runner that are queued again. */
export async function findResumable(deps: RunnerDeps): Promise<string[]> {
  if (deps.parked.size === 0) return []
  const ids = [...deps.parked.keys()]
  const rows = await deps.sql<{ id: string }[]>`
    select id from runs
    where id in ${deps.sql(ids)} and status = 'queued' and runner_id = ${deps.runnerId}
    order by available_at`
  return rows.map((r) => r.id)
}

/** Moves a parked run back to running and hands it the slot; false when it is not resumable. */
export async function resumeParked(deps: RunnerDeps, runId: string, slot: Slot): Promise<boolean> {
  const parked = deps.parked.get(runId)
  if (!parked) return false
  const [run] = await deps.sql<RunRow[]>`select * from runs where id = ${runId}`
  if (!run) return false
  // A resumed run counts against its queue's limit again: through the gate, like a claim.
  const row = await claimThroughGate(deps, run, (tx) =>
    transitionRun(
      tx,
      runId,
      ["queued"],
      "running",
      { leaseExpiresAt: new Date(Date.now() + deps.leaseMs) },
      { attempt: parked.attempt, reason: "resumed" },
      { runnerId: deps.runnerId, attempt: parked.attempt },
    ),
  )
  if (!row || deps.parked.get(runId) !== parked) return false
  deps.parked.delete(runId)
  await dequeueRun(deps.valkey, deps.keys, runId).catch(() => {})
  void deps.valkey.publish(deps.keys.runChannel(runId), "status").catch(() => 0)
  parked.resume(slot)
  return true
}

/**
 * After a restart: re-attaches to the living sandboxes of this runner id whose run is still
 * waiting (or queued to resume) at that attempt. Returns what was kept, for the orphan cleanup.
 */
export async function adoptSandboxes(
  deps: RunnerDeps,
  stop: AbortSignal,
): Promise<{ sandboxes: Set<string>; sessions: Set<string> }> {
  const keep = { sandboxes: new Set<string>(), sessions: new Set<string>() }
  for (const record of await deps.driver.listSandboxes()) {
    if (!record.running || !(await adoptable(deps, record))) continue
    const [run] = await deps.sql<RunRow[]>`select * from runs where id = ${record.runId}`
    if (!run) continue
    const slot = createSlot()
    // A parked attempt holds no slot.
    slot.release()
    try {
      if (!(await adoptAttempt(deps, run, record, stop, slot))) continue
    } catch (error) {
      deps.logger.warn({ err: error, runId: run.id }, "re-attaching to a sandbox failed")
      continue
    }
    keep.sandboxes.add(record.id)
    keep.sessions.add(record.sessionId)
  }
  return keep
}

async function adoptable(deps: RunnerDeps, record: SandboxRecord): Promise<boolean> {
  const [row] = await deps.sql<{ ok: boolean }[]>`
    select true as ok from runs
    where id = ${record.runId} and runner_id = ${deps.runnerId} and attempt = ${record.attempt}
      and status in ('waiting', 'queued')`
  return row?.ok === true
}
