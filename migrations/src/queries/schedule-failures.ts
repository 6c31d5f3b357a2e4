import { FAILURE_STATUSES } from "@helmr/sdk/contract"
import type { Sql, TransactionSql } from "../db.ts"
import type { RunStatus } from "../rows.ts"

/** The failing runs an instance remembers (the newest ones of the streak). */
const KEPT_FAILURE_IDS = 100

/**
 * `pauseAfterFailures`, counted where a run reaches its final status: a CTE of transitionRun's
 * own statement (`updated` is the run it moved), so the count moves exactly once per run end,
 * whoever ends it (runner, API cancel, dispatcher expiry), and atomically with it. Concurrent ends
 * of one instance's runs serialise on the instance row, and the SET expressions are evaluated on
 * its newest version, so no end is lost.
 * - `failed`, `crashed`, `timed_out`: the streak grows; at `pause_after_failures` an active
 *   instance is deactivated (`inactive_reason = 'failures'`, cursor cleared, version bumped so a
 *   pending lease is superseded; the dispatcher drops its Valkey entry when it comes due).
 * - `succeeded`: the streak resets.
 * - `canceled`, `expired`: the run never reached an outcome of its own; the streak stays.
 * Returns an empty fragment for other transitions.
 */
export function countScheduleOutcome(sql: Sql | TransactionSql, to: RunStatus) {
  const failing = (FAILURE_STATUSES as readonly RunStatus[]).includes(to)
  if (!failing && to !== "succeeded") return sql``
  if (!failing) {
    return sql`, schedule_outcome as (
      update schedule_instances si set consecutive_failures = 0, failure_run_ids = '{}'
      from updated u
      where si.id = u.schedule_instance_id and si.consecutive_failures > 0
    )`
  }
  const pause = sql`(si.active and si.pause_after_failures is not null
    and si.consecutive_failures + 1 >= si.pause_after_failures)`
  return sql`, schedule_outcome as (
    update schedule_instances si set
      consecutive_failures = si.consecutive_failures + 1,
      failure_run_ids = (case when cardinality(si.failure_run_ids) >= ${KEPT_FAILURE_IDS}
        then si.failure_run_ids[cardinality(si.failure_run_ids) - ${KEPT_FAILURE_IDS - 2}:]
        else si.failure_run_ids end) || u.id,
      active = case when ${pause} then false else si.active end,
      next_fire_at = case when ${pause} then null else si.next_fire_at end,
      inactive_reason = case when ${pause} then 'failures' else si.inactive_reason end,
      version = case when ${pause} then si.version + 1 else si.version end,
      updated_at = case when ${pause} then now() else si.updated_at end
    from updated u
    where si.id = u.schedule_instance_id
  )`
}
