import { namedQueueLimits, type RunFlow, resolveRunFlow } from "@helmr/migrations/run-flow"
import { type ScheduleRunOptions, TaskManifest } from "@helmr/sdk/contract"
import { z } from "zod"

// The schedule run options' schema and the ttl grammar are the contract's
// (sdk/src/contract/run-options.ts, duration.ts); this file only reads the task's own limit and
// flow control.

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
