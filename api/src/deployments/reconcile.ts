import { createHash } from "node:crypto"
import {
  type Manifest,
  normalizeCron,
  type ScheduleRunOptions,
  type StoredPolicy,
  storedPolicy,
} from "@helmr/sdk/contract"

/**
 * Pure planning of a promotion's declarative schedules: which environment instances to create,
 * move to another logical schedule, keep or delete. No I/O.
 *
 * A declarative logical schedule is identified by (task id, cron, timezone): environments that
 * declare the same schedule share it, and one environment changing its cron moves only its own
 * instance to another logical schedule, so environments never change each other's schedules.
 */

export interface DesiredSchedule {
  taskId: string
  cron: string
  timezone: string
  /** The logical schedule's deduplication key. */
  key: string
  /** The instance's flow control and run options as declared (defaults when omitted). */
  settings?: DeclaredSettings
}

/** What `schedules.task({ overlap, catchupWindow, pauseAfterFailures, runOptions })` sets. */
export interface DeclaredSettings {
  policy: StoredPolicy
  runOptions: ScheduleRunOptions
}

export interface ExistingInstance {
  instanceId: string
  scheduleId: string
  taskId: string
  cron: string
  timezone: string
  deduplicationKey: string
}

export interface SchedulePlan {
  create: DesiredSchedule[]
  /** The instance stays, pointed at the logical schedule of its new cron/timezone. */
  move: { instance: ExistingInstance; desired: DesiredSchedule }[]
  keep: { instance: ExistingInstance; desired: DesiredSchedule }[]
  remove: ExistingInstance[]
}

/**
 * `declarative:<task id>:<12 hex of sha256(cron, timezone)>`. The `:` can never appear in an
 * imperative deduplication key (`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`), so the two never collide.
 */
export function declarativeKey(taskId: string, cron: string, timezone: string): string {
  const hash = createHash("sha256")
    .update(`${normalizeCron(cron)}\n${timezone}`)
    .digest("hex")
  return `declarative:${taskId}:${hash.slice(0, 12)}`
}

/** The declarative schedules a manifest declares, one per scheduled task. */
export function desiredSchedules(manifest: Manifest): DesiredSchedule[] {
  return manifest.tasks.flatMap((task) => {
    if (task.kind !== "scheduled" || !task.cron) return []
    const cron = normalizeCron(task.cron.pattern)
    const { timezone } = task.cron
    const { runOptions, ...policy } = task.schedule ?? {}
    return [
      {
        taskId: task.id,
        cron,
        timezone,
        key: declarativeKey(task.id, cron, timezone),
        settings: { policy: storedPolicy(policy), runOptions: runOptions ?? {} },
      },
    ]
  })
}

export function planSchedules(
  desired: readonly DesiredSchedule[],
  existing: readonly ExistingInstance[],
): SchedulePlan {
  const plan: SchedulePlan = { create: [], move: [], keep: [], remove: [] }
  const byTask = new Map<string, ExistingInstance>()
  for (const instance of existing) {
    // One declarative instance per task and environment; any extra is stale and goes.
    if (byTask.has(instance.taskId)) plan.remove.push(instance)
    else byTask.set(instance.taskId, instance)
  }
  for (const want of desired) {
    const instance = byTask.get(want.taskId)
    byTask.delete(want.taskId)
    if (!instance) plan.create.push(want)
    else if (instance.deduplicationKey === want.key) plan.keep.push({ instance, desired: want })
    else plan.move.push({ instance, desired: want })
  }
  plan.remove.push(...byTask.values())
  return plan
}
