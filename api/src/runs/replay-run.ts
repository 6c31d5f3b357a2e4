import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import type { RunRow } from "@helmr/migrations/rows"
import type { ApiDeps, Caller } from "../env.ts"
import { findRun } from "./find-run.ts"
import type { RunBatcher } from "./run-batcher.ts"
import { type TriggerInput, triggerRun } from "./trigger-run.ts"

/**
 * What a replay triggers: the same task with the original's payload, tags, attempt limit, named
 * queue and concurrency key (the limit is the current deployment's); `replayOf` points back.
 * One rule for the API's replay route and the dashboard's replay button.
 */
export function replayInput(original: RunRow): TriggerInput {
  return {
    taskId: original.taskId,
    payload: original.payload === null ? undefined : original.payload,
    options: {
      tags: original.tags,
      maxAttempts: original.maxAttempts,
      ...(original.queue && !original.queue.startsWith("task:")
        ? { queue: { name: original.queue } }
        : {}),
      ...(original.concurrencyKey ? { concurrencyKey: original.concurrencyKey } : {}),
    },
    replayOf: original.id,
  }
}

/** Replays a run of the caller's environment against its current deployment. */
export async function replayRun(
  deps: ApiDeps,
  services: { catalog: TaskCatalog; batcher: RunBatcher },
  caller: Caller,
  runId: string,
): Promise<{ id: string }> {
  const original = await findRun(deps.sql, caller.environmentId, runId)
  return triggerRun(deps, services, caller, replayInput(original))
}
