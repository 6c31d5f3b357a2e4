import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import { insertRuns } from "@helmr/migrations/queries/insert-runs"
import { OperationError } from "@helmr/migrations/queries/operation-error"
import type { NewRun } from "@helmr/migrations/queries/runs"
import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import { prepareRun } from "@helmr/migrations/queries/trigger-run"
import { enqueueRuns } from "@helmr/migrations/valkey"
import type { BatchRun, FieldIssue, TriggerOptions } from "@helmr/sdk/contract"
import type { ApiDeps, Caller } from "../env.ts"
import { ApiError } from "../errors.ts"
import { validationFailed } from "../http/validate.ts"

export interface BatchTriggerItem {
  taskId: string
  payload: unknown
  options: TriggerOptions
}

/**
 * Creates the runs of a batch, all or nothing: every item is checked first (payload, options,
 * task) and any failure is one 422 naming each failing item (`items[3].payload.prNumber`); then
 * one statement inserts them all (idempotency per item) and one command enqueues the new ones.
 * Results are in item order.
 */
export async function batchTrigger(
  deps: ApiDeps,
  catalog: TaskCatalog,
  caller: Caller,
  items: readonly BatchTriggerItem[],
  now: Date = new Date(),
): Promise<BatchRun[]> {
  const issues: FieldIssue[] = []
  const prepared: NewRun[] = []
  for (const [i, item] of items.entries()) {
    try {
      const math = scheduleMath
      prepared.push(await prepareRun({ ...deps, math }, catalog, caller, { ...item }, now))
    } catch (error) {
      // The trigger's checks (shared with the runner) refuse with OperationError.
      if (!(error instanceof ApiError) && !(error instanceof OperationError)) throw error
      if (error.status === 404) issues.push({ path: `items[${i}].task`, message: error.message })
      else if (error.status === 422 && Array.isArray(error.details)) {
        for (const issue of error.details as FieldIssue[])
          issues.push({ path: `items[${i}].${issue.path}`, message: issue.message })
      } else throw error
    }
  }
  if (issues.length > 0) {
    throw validationFailed(issues, `${issues.length} problem(s) in the batch; no run was created`)
  }
  const inserted = await insertRuns(deps.sql, prepared)
  const fresh = inserted.flatMap((r, i) =>
    r.created ? [{ id: r.id, availableAt: prepared[i]?.availableAt ?? now }] : [],
  )
  try {
    await enqueueRuns(deps.valkey, deps.keys, fresh)
  } catch (error) {
    // Committed as queued: the dispatcher's repair enqueues them (as for a single trigger).
    deps.logger.error({ err: error, runs: fresh.length }, "batch enqueue failed after commit")
  }
  return inserted.map((r, i) => ({ ...r, taskId: items[i]?.taskId ?? "" }))
}
