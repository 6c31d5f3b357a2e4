import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import type { TaskCatalog, Caller as TriggerCaller } from "@helmr/migrations/queries/task-catalog"
import { prepareRun, type TriggerInput } from "@helmr/migrations/queries/trigger-run"
import type { ApiDeps, Caller } from "../env.ts"
import type { RunBatcher } from "./run-batcher.ts"

export type { TriggerInput }

/**
 * Validates and creates a run in the caller's environment, then enqueues it after the commit
 * (both by the batcher, with the triggers arriving meanwhile). The checks are the trigger's shared
 * ones (`prepareRun`, migrations/src/queries/trigger-run.ts, also the runner's for a task's
 * `runs.trigger`). The idempotency key is enforced by the database; a known key returns the
 * existing run's id with `created: false`. The caller may come from the key cache: the insert
 * itself checks key and deployment, and throws StaleCaller when either is stale (nothing written).
 */
export async function triggerRun(
  deps: ApiDeps,
  services: { catalog: TaskCatalog; batcher: RunBatcher },
  caller: Caller,
  input: TriggerInput,
  now: Date = new Date(),
): Promise<{ id: string; created: boolean }> {
  const triggerCaller: TriggerCaller = caller
  const prepared = await prepareRun(
    { ...deps, math: scheduleMath },
    services.catalog,
    triggerCaller,
    input,
    now,
  )
  const result = await services.batcher.insert(
    { ...prepared, availableAt: prepared.availableAt ?? now },
    // Only an API key can be revoked mid-request; a dashboard operator's caller has no key.
    caller.keyId.startsWith("key_") ? { apiKeyId: caller.keyId } : undefined,
  )
  if ("refused" in result) throw new StaleCaller(result.refused)
  return result
}

/** The trigger's key was revoked, or its deployment is no longer current: nothing was written. */
export class StaleCaller extends Error {
  constructor(readonly refused: "key" | "deployment") {
    super(`trigger refused: stale ${refused}`)
  }
}
