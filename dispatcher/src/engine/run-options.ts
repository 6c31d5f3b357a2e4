import { namedQueueLimits, type RunFlow, resolveRunFlow } from "@helmr/migrations/run-flow"
import { ConcurrencyKey, QueueOptions, RetryOptions, TaskManifest } from "@helmr/sdk/contract"
import { z } from "zod"

/**
 * `schedule_instances.run_options`, as the dispatcher applies them to each scheduled run. The API
 * validates them on write; here every field is read leniently (an unreadable field is ignored, not
 * fatal) because a fire must not fail forever over an option the API once accepted.
 */
const Duration = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d|w)$/)])

export const ScheduleRunOptions = z
  .object({
    tags: z.array(z.string().min(1).max(128)).max(10).optional().catch(undefined),
    maxAttempts: z.int().min(1).max(100).optional().catch(undefined),
    /** Seconds; overrides the task's own maxDuration. */
    maxDuration: z.int().positive().optional().catch(undefined),
    /** Seconds, or a duration like "10m": the run expires if not started by then. */
    ttl: Duration.optional().catch(undefined),
    queue: QueueOptions.optional().catch(undefined),
    concurrencyKey: ConcurrencyKey.optional().catch(undefined),
    retry: RetryOptions.optional().catch(undefined),
  })
  .catch({})
export type ScheduleRunOptions = z.infer<typeof ScheduleRunOptions>

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
}

/** Seconds of a ttl given as a number of seconds or a duration string. */
export function durationSeconds(value: number | string): number {
  if (typeof value === "number") return value
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value)
  if (!match) return Number.NaN
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number)
}

const TaskLimits = z.object({ maxDuration: z.int().positive() })

/** The task's maxDuration as the deployment manifest declares it, when it does. */
export function taskMaxDuration(task: unknown): number | null {
  const parsed = TaskLimits.safeParse(task)
  return parsed.success ? parsed.data.maxDuration : null
}

const TaskFlow = z.object({
  queue: TaskManifest.shape.queue.catch(undefined),
  retry: TaskManifest.shape.retry.catch(undefined),
})

/**
 * Queue, concurrency key, limit, attempts and backoff of a scheduled run: the task's declaration
 * (its manifest entry) under the schedule's run options, as the API resolves a trigger. A named
 * queue's limit is read from this task's own declaration: the fire reads no other task.
 */
export function scheduledRunFlow(
  taskId: string,
  task: unknown,
  options: ScheduleRunOptions,
): RunFlow {
  const declared = { id: taskId, ...TaskFlow.catch({}).parse(task ?? {}) }
  return resolveRunFlow(declared, namedQueueLimits([declared]), options)
}
