import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import type { Sql, TransactionSql } from "@helmr/migrations/db"
import { OperationError } from "@helmr/migrations/queries/operation-error"
import type { ScheduleContext } from "@helmr/migrations/queries/schedules"
import type { Caller } from "@helmr/migrations/queries/task-catalog"
import { enqueueTriggeredRun, insertTriggeredRun } from "@helmr/migrations/queries/trigger-run"
import type { RunRow } from "@helmr/migrations/rows"
import type { RuntimeTriggerParams } from "@helmr/sdk/contract"
import type { RunnerDeps } from "./deps.ts"
import { CallRefused } from "./runtime-call-error.ts"

/**
 * The runtime client's runs and schedules: the API's own operations (migrations/src/queries),
 * run by the runner with the run's environment as the caller. Their refusals reach the task with
 * the API's codes and fields.
 */

type Attempt = Pick<RunRow, "id" | "environmentId" | "attempt">

/** The run's environment as a caller: its project and current deployment, read now. */
async function callerOf(
  sql: Sql | TransactionSql,
  run: Attempt,
): Promise<Caller & { projectId: string }> {
  const [env] = await sql<{ projectId: string; currentDeploymentId: string | null }[]>`
    select project_id, current_deployment_id from environments where id = ${run.environmentId}`
  if (!env) throw new Error(`environment ${run.environmentId} of run ${run.id} is gone`)
  return { environmentId: run.environmentId, ...env }
}

/** An OperationError becomes the task's RuntimeCallError; anything else stays a failure. */
async function asCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof OperationError) {
      throw new CallRefused(error.code, error.message, error.details)
    }
    throw error
  }
}

/**
 * Creates a run of a task of the environment's current deployment in `sql` (a transaction for
 * `triggerAndWait`), as `POST /tasks/{id}/trigger` would; `derivedKey` keys it when the task gave
 * no idempotency key, so the same call never makes two runs. Enqueue after the commit.
 */
export async function triggerFromRun(
  deps: RunnerDeps,
  sql: Sql | TransactionSql,
  parent: Attempt,
  params: RuntimeTriggerParams,
  derivedKey: string,
): Promise<{ run: RunRow; created: boolean; enqueue(): Promise<void> }> {
  return asCall(async () => {
    const caller = await callerOf(sql, parent)
    const made = await insertTriggeredRun(sql, { math: scheduleMath }, deps.catalog, caller, {
      taskId: params.task,
      payload: params.payload,
      options: params.options ?? {},
      derivedKey,
    })
    return {
      ...made,
      enqueue: async () => {
        if (made.created) {
          await enqueueTriggeredRun({ ...deps, math: scheduleMath }, made.run)
        }
      },
    }
  })
}

/**
 * `schedules.*` inside a run: one of the API's schedule operations, in the run's environment
 * (its project, its current deployment's tasks).
 */
export async function runScheduleCall(
  deps: RunnerDeps,
  run: Attempt,
  operation: (ctx: ScheduleContext) => Promise<unknown>,
): Promise<unknown> {
  return asCall(async () => {
    const caller = await callerOf(deps.sql, run)
    return operation({
      ...deps,
      math: scheduleMath,
      caller,
      taskKind: (taskId) => deps.catalog.kindOf(caller, taskId),
    })
  })
}
