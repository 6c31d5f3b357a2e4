import { z } from "zod"

// The schedule run options' schema and the ttl grammar are the contract's
// (sdk/src/contract/run-options.ts, duration.ts); this file only reads the task's own limit.

const TaskLimits = z.object({ maxDuration: z.int().positive() })

/** The task's maxDuration as the deployment manifest declares it, when it does. */
export function taskMaxDuration(task: unknown): number | null {
  const parsed = TaskLimits.safeParse(task)
  return parsed.success ? parsed.data.maxDuration : null
}
