import { nextOccurrence } from "@helmr/dispatcher/schedule"
import type { TransactionSql } from "@helmr/migrations/db"
import { storedPolicy } from "@helmr/sdk/contract"
import type { DesiredSchedule } from "./reconcile.ts"

export interface SettledInstance {
  instanceId: string
  version: string
  active: boolean
  nextFireAt: Date | null
  /** True when this promotion resumed an instance paused by failures. */
  resumed: boolean
}

/**
 * Applies a declarative schedule's declared flow control and run options to this environment's
 * instance, and — when the instance comes from another deployment — clears its failure streak
 * and resumes it if `pauseAfterFailures` had paused it (promoting a deployment is how a paused
 * declarative schedule resumes, besides activate; docs/schedules.md). Writes nothing when
 * nothing changes (promoting the current deployment again). Returns the instance when it
 * changed, else null.
 */
export async function applyDeclaredSettings(
  tx: TransactionSql,
  instanceId: string,
  desired: DesiredSchedule,
  deploymentId: string,
  now: Date,
): Promise<SettledInstance | null> {
  const settings = desired.settings ?? { policy: storedPolicy(undefined), runOptions: {} }
  const { policy } = settings
  // Locked: a run ending meanwhile may pause the instance (transitionRun counts failures).
  const [current] = await tx<
    { deploymentId: string | null; active: boolean; inactiveReason: string | null }[]
  >`select deployment_id, active, inactive_reason from schedule_instances
    where id = ${instanceId} for update`
  if (!current) return null
  const newDeployment = current.deploymentId !== deploymentId
  const resume = newDeployment && !current.active && current.inactiveReason === "failures"
  const next = resume ? nextOccurrence(desired.cron, desired.timezone, now) : null
  const [row] = await tx<Omit<SettledInstance, "resumed">[]>`
    update schedule_instances si set
      overlap = ${policy.overlap}, catchup_window_ms = ${policy.catchupWindowMs},
      pause_after_failures = ${policy.pauseAfterFailures},
      run_options = ${tx.json(settings.runOptions as never)},
      consecutive_failures = case when ${newDeployment} then 0 else si.consecutive_failures end,
      failure_run_ids = case when ${newDeployment} then '{}' else si.failure_run_ids end,
      active = case when ${resume} then true else si.active end,
      next_fire_at = case when ${resume} then ${next}::timestamptz else si.next_fire_at end,
      inactive_reason = case when ${resume} then null else si.inactive_reason end,
      version = case when ${resume} then si.version + 1 else si.version end,
      updated_at = ${now}
    where si.id = ${instanceId} and (
      si.overlap <> ${policy.overlap}
      or si.catchup_window_ms is distinct from ${policy.catchupWindowMs}::bigint
      or si.pause_after_failures is distinct from ${policy.pauseAfterFailures}::int
      or si.run_options <> ${tx.json(settings.runOptions as never)}::jsonb
      or (${newDeployment} and (si.consecutive_failures > 0 or si.inactive_reason = 'failures')))
    returning si.id as instance_id, si.version, si.active, si.next_fire_at`
  return row ? { ...row, resumed: resume } : null
}
