import type { ScheduleRunOptions, StoredPolicy } from "@helmr/sdk/contract"
import { validationFailed } from "../operation-error.ts"

const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/

/**
 * The dispatcher's schedule math, passed in by the services (migrations cannot import the
 * dispatcher): next occurrences and the check of a cron and time zone.
 */
export interface ScheduleMath {
  nextOccurrence(cron: string, timezone: string, after: Date): Date
  nextOccurrences(cron: string, timezone: string, after: Date, count: number): Date[]
  /** The `upcoming` of a fire of the slot `now` (the dispatcher's planFire). */
  planUpcoming(cron: string, timezone: string, now: Date, count: number): Date[]
  /** What is wrong with the cron or the time zone (the field and why), or null. */
  check(cron: string, timezone: string): { field: string; message: string } | null
}

/** The kind of a task of the environment's current deployment, or why there is none. */
export type TaskKindLookup = (
  taskId: string,
) => Promise<{ kind: "task" | "scheduled" } | { missing: string }>

/** What a write sets on the logical schedule (project-wide) and the instance (this environment). */
export interface ScheduleDefinition {
  taskId: string
  cron: string
  timezone: string
  externalId: string | null
  runOptions: ScheduleRunOptions
  /** Flow control of this environment's instance (overlap, catch-up window, pause). */
  policy: StoredPolicy
}

/**
 * Checks a definition before any write: cron and timezone (422 naming the field) and the task,
 * which must be a scheduled task (`schedules.task`) of the environment's current deployment —
 * a schedule of a task that cannot run, or one that expects another payload, is refused up front.
 */
export async function checkDefinition(
  math: ScheduleMath,
  taskKind: TaskKindLookup,
  definition: ScheduleDefinition,
): Promise<void> {
  // IANA names only: the runtime's Intl also takes offsets such as "+05:00", which are not zones.
  if (!IANA_NAME.test(definition.timezone)) {
    throw validationFailed([
      { path: "timezone", message: `unknown IANA time zone '${definition.timezone}'` },
    ])
  }
  const problem = math.check(definition.cron, definition.timezone)
  if (problem) throw validationFailed([{ path: problem.field, message: problem.message }])
  try {
    math.nextOccurrence(definition.cron, definition.timezone, new Date())
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw validationFailed([{ path: "cron", message: `cron never fires: ${reason}` }])
  }
  const found = await taskKind(definition.taskId)
  if ("missing" in found) throw validationFailed([{ path: "task", message: found.missing }])
  if (found.kind !== "scheduled") {
    throw validationFailed([
      {
        path: "task",
        message: `task '${definition.taskId}' is not a scheduled task: declare it with schedules.task()`,
      },
    ])
  }
}

/** True when the project-wide part of two definitions differs. */
export function logicalChanged(
  current: { taskId: string; cron: string; timezone: string; externalId: string | null },
  next: ScheduleDefinition,
): boolean {
  return (
    current.taskId !== next.taskId ||
    current.cron !== next.cron ||
    current.timezone !== next.timezone ||
    current.externalId !== next.externalId
  )
}

/** Run options compare by value; key order in jsonb is not meaningful. */
export function sameRunOptions(a: Record<string, unknown>, b: ScheduleRunOptions): boolean {
  const canonical = (o: Record<string, unknown>) =>
    JSON.stringify(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, o[k]]),
    )
  return canonical(a) === canonical(b as Record<string, unknown>)
}

/** True when the instance's flow control differs from the definition's. */
export function policyChanged(
  current: { overlap: string; catchupWindowMs: string | null; pauseAfterFailures: number | null },
  next: StoredPolicy,
): boolean {
  return (
    current.overlap !== next.overlap ||
    (current.catchupWindowMs === null ? null : Number(current.catchupWindowMs)) !==
      next.catchupWindowMs ||
    current.pauseAfterFailures !== next.pauseAfterFailures
  )
}
