import {
  buildScheduledPayload,
  MANUAL_SCHEDULE_ID,
  type ScheduledPayloadWire,
  type TriggerOptions,
} from "@helmr/sdk/contract"
import { DEFAULT_SCHEDULE_UPCOMING } from "../config.ts"
import type { Sql, TransactionSql } from "../db.ts"
import type { RunRow } from "../rows.ts"
import { resolveRunFlow } from "../run-flow.ts"
import { enqueueRun, type Valkey, type ValkeyKeys } from "../valkey/index.ts"
import { validationFailed } from "./operation-error.ts"
import { computeRunTiming } from "./run-timing.ts"
import { insertRun, type NewRun } from "./runs.ts"
import type { ScheduleMath } from "./schedules/schedule-definition.ts"
import type { Caller, ResolvedTask, TaskCatalog } from "./task-catalog.ts"

/** What a trigger needs; the API and the runner (a task's `runs.trigger`) pass their own. */
export interface TriggerDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  logger: { error(fields: object, message: string): void }
  math: Pick<ScheduleMath, "planUpcoming">
  /** `upcoming` slots in a run-now payload (`HELMR_SCHEDULE_UPCOMING`, shared with the dispatcher). */
  scheduleUpcoming?: number
}

export interface TriggerInput {
  taskId: string
  /** `undefined` when the body had no payload (JSON null counts as none). */
  payload: unknown
  options: TriggerOptions
  replayOf?: string
  /** The key when `options.idempotencyKey` is absent (the runner keys a task's calls). */
  derivedKey?: string
}

/**
 * The run a trigger would create, checked against the task of the caller's current deployment:
 * payload, timing and flow control (queue, concurrency key, limit, attempts, backoff) resolved.
 * Throws a 404 for an unknown task and a 422 naming the failing fields; writes nothing.
 */
export async function prepareRun(
  deps: Pick<TriggerDeps, "math" | "scheduleUpcoming">,
  catalog: TaskCatalog,
  caller: Caller,
  input: TriggerInput,
  now: Date,
): Promise<NewRun> {
  const resolved = await catalog.resolve(caller, input.taskId)
  const upcoming = (cron: string, timezone: string) =>
    deps.math.planUpcoming(cron, timezone, now, deps.scheduleUpcoming ?? DEFAULT_SCHEDULE_UPCOMING)
  const payload = checkPayload(catalog, resolved, input, now, upcoming)
  const timing = computeRunTiming(input.options, now)
  if (Array.isArray(timing)) throw validationFailed(timing)
  const flow = resolveRunFlow(resolved.task, resolved.queueLimits, input.options)
  return {
    environmentId: caller.environmentId,
    deploymentId: resolved.deploymentId,
    taskId: input.taskId,
    payload,
    idempotencyKey: input.options.idempotencyKey ?? input.derivedKey ?? null,
    tags: [...new Set(input.options.tags ?? [])],
    maxAttempts: flow.maxAttempts,
    maxDurationSeconds: resolved.task.maxDuration ?? null,
    availableAt: timing.availableAt,
    expiresAt: timing.expiresAt,
    replayOf: input.replayOf ?? null,
    queue: flow.queue,
    concurrencyKey: flow.concurrencyKey,
    concurrencyLimit: flow.concurrencyLimit,
    retry: flow.retry,
  }
}

/**
 * The validation and insert of a trigger, in `sql` (which may be a transaction: the runner makes
 * a child run and the waitpoint for it in one). Enqueue the run once that committed.
 */
export async function insertTriggeredRun(
  sql: Sql | TransactionSql,
  deps: Pick<TriggerDeps, "math" | "scheduleUpcoming">,
  catalog: TaskCatalog,
  caller: Caller,
  input: TriggerInput,
  now: Date = new Date(),
): Promise<{ run: RunRow; created: boolean }> {
  return insertRun(sql, await prepareRun(deps, catalog, caller, input, now))
}

/** After the commit: the run joins the queue at its time. */
export async function enqueueTriggeredRun(deps: TriggerDeps, run: RunRow): Promise<void> {
  try {
    await enqueueRun(deps.valkey, deps.keys, run.id, run.availableAt)
  } catch (error) {
    // The run is committed as queued; the dispatcher's repair re-enqueues queued runs missing
    // from Valkey, so the caller gets its run id rather than an error it would retry.
    deps.logger.error({ err: error, runId: run.id }, "enqueue failed after commit")
  }
}

/** The trigger's key was revoked, or its deployment is no longer current: nothing was written. */
export class StaleCaller extends Error {
  constructor(readonly refused: "key" | "deployment") {
    super(`trigger refused: stale ${refused}`)
  }
}

/** The payload to store, or a 422 naming the failing paths. */
function checkPayload(
  catalog: TaskCatalog,
  resolved: ResolvedTask,
  input: TriggerInput,
  now: Date,
  upcoming: (cron: string, timezone: string) => Date[],
): unknown {
  const { task } = resolved
  const { payload } = input
  const given = payload !== undefined && payload !== null
  if (task.kind === "scheduled") {
    // A replay keeps the slot it replays: the generated payload of the original run.
    if (input.replayOf && given) return payload
    if (given) {
      throw validationFailed([
        {
          path: "payload",
          message: `scheduled task '${task.id}' takes no payload: Helmr generates it`,
        },
      ])
    }
    return manualSchedulePayload(resolved, now, upcoming)
  }
  if (task.payloadSchema === null) {
    if (given) {
      throw validationFailed([
        { path: "payload", message: `task '${task.id}' does not accept a payload` },
      ])
    }
    return null
  }
  const issues = catalog.validatePayload(resolved, payload)
  if (issues.length > 0) throw validationFailed(issues)
  return payload
}

/**
 * A scheduled task triggered by hand ("run now") gets the payload a fire would give it, for the
 * slot `now`, with `scheduleId: "manual"` so the task can tell the two apart: the same builder
 * and the same `upcoming` as a fire of that slot (planFire, passed in as `upcomingOf`).
 */
function manualSchedulePayload(
  resolved: ResolvedTask,
  now: Date,
  upcomingOf: (cron: string, timezone: string) => Date[],
): ScheduledPayloadWire {
  const cron = resolved.task.cron
  const timezone = cron?.timezone ?? "UTC"
  let upcoming: Date[] = []
  if (cron) {
    try {
      upcoming = upcomingOf(cron.pattern, timezone)
    } catch {
      upcoming = []
    }
  }
  return buildScheduledPayload({ slot: now, timezone, scheduleId: MANUAL_SCHEDULE_ID, upcoming })
}
