import type { Sql } from "@helmr/migrations/db"
import { Manifest } from "@helmr/sdk/contract"
import { listDeclarativeInstances } from "../deployments/promote.ts"
import { desiredSchedules, planSchedules } from "../deployments/reconcile.ts"

export interface ScheduleChange {
  taskId: string
  cron: string
  timezone: string
  /** For a moved schedule: what it was before. */
  from?: { cron: string; timezone: string }
}

export interface PromotionPreview {
  create: ScheduleChange[]
  move: ScheduleChange[]
  remove: ScheduleChange[]
  keep: ScheduleChange[]
}

/**
 * What promoting `manifest` in the environment would do to its declarative schedules, planned by
 * the promotion's own pure planner against the same instances it reads; nothing is written.
 */
export async function previewPromotion(
  sql: Sql,
  environmentId: string,
  manifest: unknown,
): Promise<PromotionPreview> {
  const existing = await listDeclarativeInstances(sql, environmentId)
  const plan = planSchedules(desiredSchedules(Manifest.parse(manifest)), existing)
  const plain = (s: { taskId: string; cron: string; timezone: string }): ScheduleChange => ({
    taskId: s.taskId,
    cron: s.cron,
    timezone: s.timezone,
  })
  return {
    create: plan.create.map(plain),
    move: plan.move.map(({ instance, desired }) => ({
      ...plain(desired),
      from: { cron: instance.cron, timezone: instance.timezone },
    })),
    remove: plan.remove.map(plain),
    keep: plan.keep.map(({ desired }) => plain(desired)),
  }
}
