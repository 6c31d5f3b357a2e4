import type { Sql, TransactionSql } from "@helmr/migrations/db"
import { insertRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { enqueueRun } from "@helmr/migrations/valkey"
import { Manifest, type RuntimeMethod, type RuntimeTriggerParams } from "@helmr/sdk/contract"
import type { RunnerDeps } from "./deps.ts"
import { CallRefused } from "./runtime-call-error.ts"

/**
 * The runtime client's runs and schedules, done by the runner for the run's environment.
 */

type Attempt = Pick<RunRow, "id" | "environmentId" | "attempt">

/**
 * Starts a child run of a task of the environment's current deployment (the API's trigger rules:
 * the task must be deployed and take a payload only if it declares one; the child's sandbox
 * checks the payload against the task's schema before `run`). `derivedKey` keys it when the task
 * gave no idempotency key, so the same call never makes two runs.
 */
export async function triggerFromRun(
  deps: RunnerDeps,
  sql: Sql | TransactionSql,
  parent: Attempt,
  params: RuntimeTriggerParams,
  derivedKey: string,
): Promise<{ run: RunRow; created: boolean; enqueue(): Promise<void> }> {
  const options = params.options ?? {}
  for (const field of ["delay", "ttl"] as const) {
    if (options[field] !== undefined) {
      throw new CallRefused(
        "validation_failed",
        `options.${field} is not available inside a run; wait with timers.wait before triggering`,
        [{ path: `options.${field}`, message: "not available inside a run" }],
      )
    }
  }
  const [env] = await sql<{ deploymentId: string | null; manifest: unknown }[]>`
    select e.current_deployment_id as deployment_id, d.manifest
    from environments e left join deployments d on d.id = e.current_deployment_id
    where e.id = ${parent.environmentId}`
  if (!env?.deploymentId) {
    throw new CallRefused(
      "not_found",
      `task '${params.task}' not found: this environment has no promoted deployment`,
    )
  }
  const task = Manifest.safeParse(env.manifest).data?.tasks.find((t) => t.id === params.task)
  if (!task) {
    throw new CallRefused(
      "not_found",
      `task '${params.task}' not found in the current deployment (${env.deploymentId})`,
    )
  }
  const given = params.payload !== undefined && params.payload !== null
  if (given && (task.kind === "scheduled" || task.payloadSchema === null)) {
    throw new CallRefused("validation_failed", `task '${task.id}' does not accept a payload`, [
      { path: "payload", message: `task '${task.id}' does not accept a payload` },
    ])
  }
  if (task.kind === "scheduled") {
    throw new CallRefused(
      "validation_failed",
      `task '${task.id}' is a scheduled task: create a schedule for it instead`,
      [{ path: "task", message: "scheduled tasks are started by their schedules" }],
    )
  }
  const { run, created } = await insertRun(sql, {
    environmentId: parent.environmentId,
    deploymentId: env.deploymentId,
    taskId: task.id,
    payload: given ? params.payload : null,
    idempotencyKey: options.idempotencyKey ?? derivedKey,
    tags: [...new Set(options.tags ?? [])],
    maxAttempts: options.maxAttempts ?? 1,
    maxDurationSeconds: task.maxDuration ?? null,
  })
  return {
    run,
    created,
    enqueue: async () => {
      if (created) await enqueueRun(deps.valkey, deps.keys, run.id, run.availableAt)
    },
  }
}

export async function runScheduleCall(
  _deps: RunnerDeps,
  _run: Attempt,
  method: RuntimeMethod,
  _params: unknown,
): Promise<unknown> {
  throw new CallRefused("unavailable", `${method} is not available inside a run yet`)
}
