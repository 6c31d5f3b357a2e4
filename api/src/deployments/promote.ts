import { nextOccurrence } from "@helmr/dispatcher/schedule"
import type { Sql, TransactionSql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { putScheduleEntry, removeScheduleEntry } from "@helmr/migrations/valkey"
import { Manifest, type PromotedSchedule, storedPolicy } from "@helmr/sdk/contract"
import type { ApiDeps, Caller } from "../env.ts"
import { notFound } from "../errors.ts"
import { applyDeclaredSettings } from "./declared-settings.ts"
import { checkPromotable } from "./promotable.ts"
import { type DeploymentView, findDeployment } from "./queries.ts"
import {
  type DesiredSchedule,
  desiredSchedules,
  type ExistingInstance,
  planSchedules,
} from "./reconcile.ts"

export interface PromotionResult {
  deployment: DeploymentView
  changed: boolean
  schedules: Record<"created" | "updated" | "removed" | "unchanged", PromotedSchedule[]>
}

interface InstanceState {
  instanceId: string
  version: string
  active: boolean
  nextFireAt: Date | null
}

/**
 * Makes a deployment current for its environment and reconciles the environment's declarative
 * schedule instances with it, in one transaction; then updates the Valkey next-fire entries.
 * Promoting what is already current with the same schedules writes nothing. A deployment whose
 * build is not ready, or that lacks secrets (unless allowed), is refused (promotable.ts).
 */
export async function promoteDeployment(
  deps: Pick<ApiDeps, "sql" | "valkey" | "keys" | "logger">,
  caller: Caller,
  deploymentId: string,
  options: { allowMissingSecrets?: boolean } = {},
  now: Date = new Date(),
): Promise<PromotionResult> {
  const outcome = await deps.sql.begin(async (tx) => {
    // Promotions of one project are serialised: they share its declarative logical schedules.
    await tx`select 1 from projects where id = ${caller.projectId} for update`
    const [env] = await tx<{ currentDeploymentId: string | null }[]>`
      select current_deployment_id from environments where id = ${caller.environmentId} for update`
    const found = await findDeployment(tx, caller.environmentId, deploymentId)
    if (!found || !env) throw notFound(`deployment ${deploymentId}`)
    checkPromotable(found, { allowMissingSecrets: options.allowMissingSecrets === true })
    const result = await reconcileSchedules(tx, caller, found, now)
    let deployment = found
    const becomesCurrent = env.currentDeploymentId !== found.id
    if (becomesCurrent) {
      await tx`update environments set current_deployment_id = ${found.id}
        where id = ${caller.environmentId}`
      await tx`update deployments set promoted_at = ${now} where id = ${found.id}`
      deployment = { ...found, current: true, promotedAt: now }
    }
    const changed =
      becomesCurrent ||
      result.schedules.created.length +
        result.schedules.updated.length +
        result.schedules.removed.length >
        0
    return { deployment, changed, ...result }
  })

  await syncValkey(deps, outcome.entries, outcome.removedIds)
  return { deployment: outcome.deployment, changed: outcome.changed, schedules: outcome.schedules }
}

async function reconcileSchedules(
  tx: TransactionSql,
  caller: Caller,
  deployment: DeploymentView,
  now: Date,
) {
  const existing = await listDeclarativeInstances(tx, caller.environmentId)
  const plan = planSchedules(desiredSchedules(Manifest.parse(deployment.manifest)), existing)
  const schedules: PromotionResult["schedules"] = {
    created: [],
    updated: [],
    removed: [],
    unchanged: [],
  }
  const entries: InstanceState[] = []
  const present = (want: DesiredSchedule, scheduleId: string, state: InstanceState) => ({
    taskId: want.taskId,
    scheduleId,
    instanceId: state.instanceId,
    cron: want.cron,
    timezone: want.timezone,
    nextFireAt: state.nextFireAt?.toISOString() ?? null,
  })

  for (const want of plan.create) {
    const scheduleId = await ensureLogicalSchedule(tx, caller.projectId, want)
    const policy = want.settings?.policy ?? storedPolicy(undefined)
    const [state] = await tx<InstanceState[]>`
      insert into schedule_instances (id, schedule_id, environment_id, deployment_id, active,
        next_fire_at, run_options, overlap, catchup_window_ms, pause_after_failures)
      values (${newId("schedi")}, ${scheduleId}, ${caller.environmentId}, ${deployment.id}, true,
        ${nextOccurrence(want.cron, want.timezone, now)},
        ${tx.json((want.settings?.runOptions ?? {}) as never)}, ${policy.overlap},
        ${policy.catchupWindowMs}, ${policy.pauseAfterFailures})
      returning id as instance_id, version, active, next_fire_at`
    entries.push(state as InstanceState)
    schedules.created.push(present(want, scheduleId, state as InstanceState))
  }
  for (const { instance, desired } of plan.move) {
    await applyDeclaredSettings(tx, instance.instanceId, desired, deployment.id, now)
    const scheduleId = await ensureLogicalSchedule(tx, caller.projectId, desired)
    const next = nextOccurrence(desired.cron, desired.timezone, now)
    const [state] = await tx<InstanceState[]>`
      update schedule_instances set schedule_id = ${scheduleId}, deployment_id = ${deployment.id},
        next_fire_at = case when active then ${next}::timestamptz else null end,
        version = version + 1, updated_at = ${now}
      where id = ${instance.instanceId}
      returning id as instance_id, version, active, next_fire_at`
    entries.push(state as InstanceState)
    schedules.updated.push(present(desired, scheduleId, state as InstanceState))
  }
  for (const { instance, desired } of plan.keep) {
    // Same schedule: the cursor and version stay (unless a failure pause ends), the declared
    // settings are applied and the owning deployment is recorded.
    const settled = await applyDeclaredSettings(
      tx,
      instance.instanceId,
      desired,
      deployment.id,
      now,
    )
    if (settled?.resumed) entries.push(settled)
    const [state] = await tx<InstanceState[]>`
      select id as instance_id, version, active, next_fire_at from schedule_instances
      where id = ${instance.instanceId}`
    await tx`update schedule_instances set deployment_id = ${deployment.id}
      where id = ${instance.instanceId} and deployment_id is distinct from ${deployment.id}`
    schedules.unchanged.push(present(desired, instance.scheduleId, state as InstanceState))
  }
  const removedIds = plan.remove.map((i) => i.instanceId)
  if (removedIds.length > 0) {
    await tx`delete from schedule_instances where id = any(${removedIds})`
  }
  for (const instance of plan.remove) {
    schedules.removed.push({
      taskId: instance.taskId,
      scheduleId: instance.scheduleId,
      instanceId: instance.instanceId,
      cron: instance.cron,
      timezone: instance.timezone,
      nextFireAt: null,
    })
  }
  const left = [...plan.remove, ...plan.move.map((m) => m.instance)].map((i) => i.scheduleId)
  if (left.length > 0) {
    // A logical schedule goes only when no environment holds an instance of it any more.
    await tx`
      delete from schedules s
      where s.id = any(${[...new Set(left)]}) and s.kind = 'declarative'
        and not exists (select 1 from schedule_instances si where si.schedule_id = s.id)`
  }
  return { schedules, entries, removedIds }
}

/** The environment's declarative schedule instances, as promotion plans against them. */
export function listDeclarativeInstances(
  sql: Sql | TransactionSql,
  environmentId: string,
): Promise<ExistingInstance[]> {
  return sql<ExistingInstance[]>`
    select si.id as instance_id, si.schedule_id, s.task_id, s.cron, s.timezone, s.deduplication_key
    from schedule_instances si join schedules s on s.id = si.schedule_id
    where si.environment_id = ${environmentId} and s.kind = 'declarative'
    order by si.created_at, si.id`
}

/** The project's declarative logical schedule for (task, cron, timezone), made if missing. */
async function ensureLogicalSchedule(
  tx: TransactionSql,
  projectId: string,
  want: DesiredSchedule,
): Promise<string> {
  const [found] = await tx<{ id: string }[]>`
    select id from schedules where project_id = ${projectId} and deduplication_key = ${want.key}`
  if (found) return found.id
  const [made] = await tx<{ id: string }[]>`
    insert into schedules (id, project_id, kind, task_id, cron, timezone, deduplication_key)
    values (${newId("sched")}, ${projectId}, 'declarative', ${want.taskId}, ${want.cron},
      ${want.timezone}, ${want.key})
    returning id`
  return (made as { id: string }).id
}

/**
 * Postgres is committed; Valkey only holds hints. A failed write here is logged, not returned:
 * the dispatcher's repair loop rebuilds entries from Postgres.
 */
async function syncValkey(
  deps: Pick<ApiDeps, "valkey" | "keys" | "logger">,
  entries: readonly InstanceState[],
  removedIds: readonly string[],
): Promise<void> {
  try {
    for (const entry of entries) {
      if (entry.active && entry.nextFireAt) {
        await putScheduleEntry(deps.valkey, deps.keys, {
          instanceId: entry.instanceId,
          version: entry.version,
          nextFireAt: entry.nextFireAt,
        })
      } else {
        await removeScheduleEntry(deps.valkey, deps.keys, entry.instanceId)
      }
    }
    for (const id of removedIds) await removeScheduleEntry(deps.valkey, deps.keys, id)
  } catch (error) {
    deps.logger.warn({ err: error }, "promotion committed; schedule entries left for repair")
  }
}
