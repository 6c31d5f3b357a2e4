import type { Sql, TransactionSql } from "../db.ts"
import { FINAL_RUN_STATUSES, type RunStatus } from "../rows.ts"
import { assertRunTransitions } from "./run-transitions.ts"

// The parent's move below is a transition like any other: the table must allow it.
assertRunTransitions(["waiting"], "queued")

/**
 * The Postgres NOTIFY channel on which a parent woken by its child's end is announced (payload:
 * the parent's run id). Delivered at the commit that woke it, never for a rolled-back one; the
 * runner holding the parent's sandbox listens (runner/src/run/queue-wake.ts).
 */
export const RUN_WOKEN_CHANNEL = "helmr_run_woken"

/**
 * `runs.triggerAndWait`, completed where the child reaches its final status: a CTE of
 * transitionRun's own statement (`updated` is the run it moved), so whichever service ends the
 * child (runner, API cancel, dispatcher expiry, recovery), its parent's `run` waitpoints complete
 * and the parent moves `waiting → queued` (with its transition event) atomically with the child's
 * end, and never twice. The waitpoint carries `{ ok, id, status, output | error }`. The runner
 * holding the parent's sandbox hears of it on RUN_WOKEN_CHANNEL and resumes it
 * (docs/ARCHITECTURE.md, waits).
 * Returns an empty fragment for a move to a status that is not final.
 */
export function completeChildWaits(sql: Sql | TransactionSql, to: RunStatus) {
  if (!FINAL_RUN_STATUSES.includes(to)) return sql``
  return sql`, child_waits as (
    update waitpoints w set
      status = 'completed',
      completed_at = now(),
      data = case when u.status = 'succeeded'
        then jsonb_build_object('ok', true, 'id', u.id, 'status', u.status, 'output', u.output)
        else jsonb_build_object('ok', false, 'id', u.id, 'status', u.status,
          'error', coalesce(u.error,
            jsonb_build_object('name', 'RunError', 'message', 'run ' || u.status)))
      end
    from updated u
    where w.child_run_id = u.id and w.kind = 'run' and w.status = 'pending'
    returning w.id, w.run_id, u.id as child_run_id
  ), woken as (
    update runs p set status = 'queued', available_at = now(), updated_at = now()
    from child_waits cw
    where p.id = cw.run_id and p.status = 'waiting'
    returning p.id, cw.id as waitpoint_id, cw.child_run_id
  ), woken_event as (
    insert into run_events (run_id, type, data)
    select id, 'transition', jsonb_build_object('from', 'waiting', 'to', 'queued',
      'reason', 'child run', 'waitpointId', waitpoint_id, 'childRunId', child_run_id)
    from woken, pg_notify(${RUN_WOKEN_CHANNEL}, woken.id)
  )`
}
