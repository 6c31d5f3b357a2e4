import { planFire } from "@helmr/dispatcher/schedule/plan"
import { DEFAULT_SCHEDULE_UPCOMING } from "@helmr/migrations/config"
import type { NewRun } from "@helmr/migrations/queries/runs"
import { resolveRunFlow } from "@helmr/migrations/run-flow"
import {
  buildScheduledPayload,
  MANUAL_SCHEDULE_ID,
  type ScheduledPayloadWire,
  type TriggerOptions,
} from "@helmr/sdk/contract"
import type { ApiDeps, Caller } from "../env.ts"
import { validationFailed } from "../http/validate.ts"
import type { RunBatcher } from "./run-batcher.ts"
import { computeRunTiming } from "./run-timing.ts"
import type { ResolvedTask, TaskCatalog } from "./task-catalog.ts"

export interface TriggerInput {
  taskId: string
  /** `undefined` when the body had no payload (JSON null counts as none). */
  payload: unknown
  options: TriggerOptions
  replayOf?: string
}

/**
 * The run a trigger would create, checked against the task of the caller's current deployment:
 * payload, timing and flow control (queue, concurrency key, limit, attempts, backoff) resolved.
 * Throws a 404 for an unknown task and a 422 naming the failing fields; writes nothing.
 */
export async function prepareRun(
  deps: Pick<ApiDeps, "scheduleUpcoming">,
  catalog: TaskCatalog,
  caller: Caller,
  input: TriggerInput,
  now: Date,
): Promise<NewRun> {
  const resolved = await catalog.resolve(caller, input.taskId)
  const upcomingCount = deps.scheduleUpcoming ?? DEFAULT_SCHEDULE_UPCOMING
  const payload = checkPayload(catalog, resolved, input, now, upcomingCount)
  const timing = computeRunTiming(input.options, now)
  if (Array.isArray(timing)) throw validationFailed(timing)
  const flow = resolveRunFlow(resolved.task, resolved.queueLimits, input.options)
  return {
    environmentId: caller.environmentId,
    deploymentId: resolved.deploymentId,
    taskId: input.taskId,
    payload,
    idempotencyKey: input.options.idempotencyKey ?? null,
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
 * Validates and creates a run in the caller's environment, then enqueues it after the commit
 * (both by the batcher, with the triggers arriving meanwhile). The idempotency key is enforced by
 * the database; a known key returns the existing run's id with `created: false`. The caller may
 * come from the key cache: the insert itself checks key and deployment, and throws StaleCaller
 * when either is stale (nothing written).
 */
export async function triggerRun(
  deps: ApiDeps,
  services: { catalog: TaskCatalog; batcher: RunBatcher },
  caller: Caller,
  input: TriggerInput,
  now: Date = new Date(),
): Promise<{ id: string; created: boolean }> {
  const prepared = await prepareRun(deps, services.catalog, caller, input, now)
  const result = await services.batcher.insert(
    { ...prepared, availableAt: prepared.availableAt ?? now },
    { apiKeyId: caller.keyId },
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

/** The payload to store, or a 422 naming the failing paths. */
function checkPayload(
  catalog: TaskCatalog,
  resolved: ResolvedTask,
  input: TriggerInput,
  now: Date,
  upcomingCount: number,
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
    return manualSchedulePayload(resolved, now, upcomingCount)
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
 * and the same `upcoming` as a fire of that slot (planFire).
 */
function manualSchedulePayload(
  resolved: ResolvedTask,
  now: Date,
  upcomingCount: number,
): ScheduledPayloadWire {
  const cron = resolved.task.cron
  const timezone = cron?.timezone ?? "UTC"
  let upcoming: Date[] = []
  if (cron) {
    try {
      upcoming = planFire({ cron: cron.pattern, timezone, slot: now, now, upcomingCount }).upcoming
    } catch {
      upcoming = []
    }
  }
  return buildScheduledPayload({ slot: now, timezone, scheduleId: MANUAL_SCHEDULE_ID, upcoming })
}
