import type { ApiDeps, Caller } from "../env.ts"
import { findRun } from "./find-run.ts"
import type { RunBatcher } from "./run-batcher.ts"
import type { TaskCatalog } from "./task-catalog.ts"
import { triggerRun } from "./trigger-run.ts"

/**
 * A new run of the same task with the original's payload, tags, attempt limit, named queue and
 * concurrency key, against the
 * environment's current deployment; `replayOf` points back at the original.
 */
export async function replayRun(
  deps: ApiDeps,
  services: { catalog: TaskCatalog; batcher: RunBatcher },
  caller: Caller,
  runId: string,
): Promise<{ id: string }> {
  const original = await findRun(deps.sql, caller.environmentId, runId)
  return triggerRun(deps, services, caller, {
    taskId: original.taskId,
    payload: original.payload === null ? undefined : original.payload,
    options: {
      tags: original.tags,
      maxAttempts: original.maxAttempts,
      // The same queue and key; the limit is the current deployment's.
      ...(original.queue && !original.queue.startsWith("task:")
        ? { queue: { name: original.queue } }
        : {}),
      ...(original.concurrencyKey ? { concurrencyKey: original.concurrencyKey } : {}),
    },
    replayOf: original.id,
  })
}
