import { cancelRunById } from "@helmr/migrations/queries/cancel-run"
import { enqueueRun } from "@helmr/migrations/valkey"
import { type EngineDeps, sleep } from "./deps.ts"
import { errorMessage } from "./errors.ts"

/**
 * Runs held behind their schedule instance's active run (overlap `bufferOne`, and
 * `cancelPrevious` while the canceled run ends). A held run is `queued` with `held = true` and
 * `available_at` at HELD_AVAILABLE_AT (overlap.ts): no runner starts it (a runner never starts a
 * run before its available_at), and it stays out of the run queue (repair skips it). This loop
 * releases it — `held = false`, `available_at = now()`, enqueued — once no released run of its
 * instance is active any more (an enqueue lost here is put back by repair, as for any queued
 * run), and makes sure the runs a `cancelPrevious` slot replaces were asked to cancel (the fire
 * asks right after its commit; this covers a dispatcher that died in between). Postgres decides:
 * the release is one compare-and-set statement, so two dispatchers release a run once.
 */

const BATCH = 200

/** Releases held runs whose instance has no other active run; returns their ids. */
export async function releaseHeldRuns(deps: EngineDeps): Promise<string[]> {
  const released = await deps.sql<{ id: string; availableAt: Date }[]>`
    with candidates as (
      select r.id from runs r
      where r.held and r.status = 'queued'
        and not exists (
          select 1 from runs a
          where a.schedule_instance_id = r.schedule_instance_id and not a.held
            and a.status in ('queued', 'starting', 'running', 'waiting'))
      limit ${BATCH}
      for update of r skip locked
    ), released as (
      update runs r set held = false, available_at = now(), updated_at = now()
      from candidates c
      where r.id = c.id and r.held and r.status = 'queued'
      returning r.id, r.available_at
    ), events as (
      insert into run_events (run_id, type, data)
      select id, 'released', '{"reason": "the previous run of the schedule ended"}'::jsonb
      from released
    )
    select id, available_at from released`
  for (const run of released) await enqueueRun(deps.valkey, deps.keys, run.id, run.availableAt)
  return released.map((r) => r.id)
}

/**
 * Active runs a `cancelPrevious` slot replaced that have no cancel request yet (a fire whose
 * follow-up never ran): asked to cancel now, through the one cancel path.
 */
export async function cancelReplacedRuns(deps: EngineDeps): Promise<number> {
  const pending = await deps.sql<{ id: string }[]>`
    select distinct a.id from runs h
    join schedule_instances si on si.id = h.schedule_instance_id and si.overlap = 'cancelPrevious'
    join runs a on a.schedule_instance_id = h.schedule_instance_id and not a.held
      and a.status in ('queued', 'starting', 'running', 'waiting')
      and a.cancel_requested_at is null and a.slot_at < h.slot_at
    where h.held and h.status = 'queued'
    limit ${BATCH}`
  await cancelRuns(
    deps,
    pending.map((r) => r.id),
  )
  return pending.length
}

/** Cancels runs through the shared cancel path (API semantics: queued ends, running is asked). */
export async function cancelRuns(deps: EngineDeps, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    const outcome = await cancelRunById(deps.sql, deps.valkey, deps.keys, runId, {
      reason: "canceled by a newer slot of its schedule (overlap cancelPrevious)",
    })
    if (outcome.kind === "canceled" || outcome.kind === "requested") {
      deps.metrics.overlap.inc({ kind: "canceled_previous" })
    }
  }
}

export async function runHeldRunLoop(deps: EngineDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await cancelReplacedRuns(deps)
      const released = await releaseHeldRuns(deps)
      if (released.length > 0) deps.metrics.overlap.inc({ kind: "released" }, released.length)
      // A full batch means more may be ready: go again at once.
      if (released.length < BATCH) await sleep(deps.settings.heldPollMs, signal)
    } catch (error) {
      deps.metrics.errors.inc({ loop: "held-runs" })
      deps.logger.warn({ err: errorMessage(error) }, "held-run loop failed")
      await sleep(deps.settings.timerPollMs, signal)
    }
  }
}
