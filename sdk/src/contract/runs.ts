import { z } from "zod"
import {
  Cursor,
  MaxAttempts,
  PageLimit,
  pageOf,
  Tag,
  Tags,
  Timestamp,
  TimestampInput,
} from "./common.ts"
import { FlowOptions } from "./flow-control.ts"
import { DeploymentId, IDENTIFIER_PATTERN, RunId, SessionId, TaskId } from "./ids.ts"
import { Delay, Ttl } from "./run-options.ts"

/**
 * Where a run is: `queued → starting → running ⇄ waiting →` a final status.
 *
 * @example
 * ```ts
 * if (RunStatus.parse(run.status) === "failed") console.log(run.error)
 * ```
 */
export const RunStatus = z.enum([
  "queued",
  "starting",
  "running",
  "waiting",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
  "crashed",
  "expired",
])
export type RunStatus = z.infer<typeof RunStatus>

/**
 * Statuses a run never leaves.
 *
 * @example
 * ```ts
 * const done = FINAL_RUN_STATUSES.includes(run.status)
 * ```
 */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
  "crashed",
  "expired",
]

/**
 * Same shape as task ids; keys the scheduler derives contain `:` and can never collide.
 *
 * @example
 * ```ts
 * IdempotencyKey.parse("pr-42")
 * ```
 */
export const IdempotencyKey = z
  .string()
  .regex(IDENTIFIER_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

/**
 * Options of a trigger; every field is optional.
 *
 * @example
 * ```ts
 * TriggerOptions.parse({ idempotencyKey: "pr-42", delay: "5m", tags: ["web"], maxAttempts: 3 })
 * TriggerOptions.parse({ queue: { name: "emails" }, concurrencyKey: "org_42", retry: { minDelay: "1s" } })
 * ```
 */
export const TriggerOptions = z.strictObject({
  /** A second trigger with the same key returns the first run instead of making another. */
  idempotencyKey: IdempotencyKey.optional(),
  delay: Delay.optional(),
  ttl: Ttl.optional(),
  tags: Tags.optional(),
  /** Wins over `retry.maxAttempts` and the task's. */
  maxAttempts: MaxAttempts.optional(),
  ...FlowOptions.shape,
})
export type TriggerOptions = z.infer<typeof TriggerOptions>

/**
 * `POST /api/v1/tasks/{taskId}/trigger`. A task without payload takes none (absent or null).
 *
 * @example
 * ```ts
 * TriggerBody.parse({ payload: { prNumber: 42 }, options: { ttl: "1h" } })
 * ```
 */
export const TriggerBody = z.strictObject({
  payload: z.unknown().optional(),
  options: TriggerOptions.optional(),
})
export type TriggerBody = z.infer<typeof TriggerBody>

/**
 * 201 for a new run. A known idempotency key answers 200 with the existing run (a `Run`).
 *
 * @example
 * ```ts
 * const { id } = TriggerResponse.parse(await res.json())
 * ```
 */
export const TriggerResponse = z.object({ id: RunId })
export type TriggerResponse = z.infer<typeof TriggerResponse>

const runFields = {
  id: RunId,
  taskId: TaskId,
  status: RunStatus,
  deploymentId: DeploymentId,
  sessionId: SessionId,
  scheduleId: z.string().nullable(),
  replayOf: RunId.nullable(),
  tags: z.array(z.string()),
  idempotencyKey: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  /** Attempts started so far. */
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  /** The run's queue: a named one, or `task:<task id>`. */
  queue: z.string(),
  /** Its concurrency key, if any: the limit applies per value. */
  concurrencyKey: z.string().nullable(),
  /** Runs of the queue (and key) that may be starting or running at once; null: unlimited. */
  concurrencyLimit: z.number().int().nullable(),
  /** Set when a cancel was asked for a run that had already started; the runner ends it. */
  cancelRequestedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** Not started before this time (delay, retry backoff). */
  delayUntil: Timestamp,
  /** Expires unstarted after this time (ttl). */
  expiresAt: Timestamp.nullable(),
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
}

/**
 * A run as `GET /runs/{runId}` returns it.
 *
 * @example
 * ```ts
 * const run = Run.parse(await res.json()); if (run.status === "succeeded") use(run.output)
 * ```
 */
export const Run = z.object({
  ...runFields,
  payload: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
})
export type Run = z.infer<typeof Run>

/**
 * A run as lists return it: no payload, output or error (retrieve the run for those).
 *
 * @example
 * ```ts
 * const ids = page.data.map((r: RunSummary) => r.id)
 * ```
 */
export const RunSummary = z.object(runFields)
export type RunSummary = z.infer<typeof RunSummary>

/**
 * `GET /api/v1/runs`: repeat `status` and `tag` (or separate values with commas).
 *
 * @example
 * ```ts
 * await client.runs.list({ status: ["failed"], tag: ["web"], from: "2026-01-01T00:00:00Z" })
 * ```
 */
export const ListRunsQuery = z.strictObject({
  status: z.array(RunStatus).optional(),
  task: TaskId.optional(),
  schedule: z.string().min(1).max(128).optional(),
  /** Runs carrying every one of these tags. */
  tag: z.array(Tag).max(10).optional(),
  /** Created at or after. */
  from: TimestampInput.optional(),
  /** Created before. */
  to: TimestampInput.optional(),
  limit: PageLimit.optional(),
  cursor: Cursor.optional(),
})
export type ListRunsQuery = z.input<typeof ListRunsQuery>

/**
 * Newest first; `nextCursor` continues after the last run of this page.
 *
 * @example
 * ```ts
 * const { data, nextCursor } = RunList.parse(await res.json())
 * ```
 */
export const RunList = pageOf(RunSummary)
export type RunList = z.infer<typeof RunList>

/**
 * One row of a run's event log, as `GET /runs/{runId}/events` streams it (SSE `id:` = `id`).
 *
 * @example
 * ```ts
 * const event = RunEvent.parse(JSON.parse(message.data))
 * ```
 */
export const RunEvent = z.object({
  id: z.string().regex(/^\d+$/),
  type: z.string(),
  level: z.string().nullable(),
  message: z.string().nullable(),
  data: z.unknown(),
  createdAt: Timestamp,
})
export type RunEvent = z.infer<typeof RunEvent>

/**
 * The last SSE message of a run's event stream: the run reached a final status.
 *
 * @example
 * ```ts
 * const { status } = RunStreamEnd.parse(JSON.parse(endMessage.data))
 * ```
 */
export const RunStreamEnd = z.object({ id: RunId, status: RunStatus })
export type RunStreamEnd = z.infer<typeof RunStreamEnd>
