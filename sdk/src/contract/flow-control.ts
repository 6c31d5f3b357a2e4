import { z } from "zod"
import { MaxAttempts } from "./common.ts"
import { DurationString, parseDuration } from "./duration.ts"
import { IDENTIFIER_PATTERN } from "./ids.ts"

/**
 * Flow control of runs, as tasks declare it (`task({ queue, retry })`, carried in the manifest)
 * and as triggers and schedules override it. One owner for the SDK's declaration check, the API
 * and the dispatcher.
 */

/**
 * A named queue: runs of every task naming it share its concurrency limit.
 *
 * @example
 * ```ts
 * QueueName.parse("emails")
 * ```
 */
export const QueueName = z
  .string()
  .regex(IDENTIFIER_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

/**
 * Runs of one queue (and one concurrency key) that may be starting or running at once.
 *
 * @example
 * ```ts
 * ConcurrencyLimit.parse(5)
 * ```
 */
export const ConcurrencyLimit = z.number().int().min(1).max(10_000)

/**
 * A queue and its limit: `name` defaults to the task's own queue; without `concurrencyLimit`
 * the limit is the one the deployment declares for that queue (none: unlimited).
 *
 * @example
 * ```ts
 * QueueOptions.parse({ name: "emails", concurrencyLimit: 5 })
 * ```
 */
export const QueueOptions = z.strictObject({
  name: QueueName.optional(),
  concurrencyLimit: ConcurrencyLimit.optional(),
})
export type QueueOptions = z.infer<typeof QueueOptions>

/**
 * Splits a queue's limit per value (for example a tenant id): each value gets the whole limit.
 *
 * @example
 * ```ts
 * ConcurrencyKey.parse("org_42")
 * ```
 */
export const ConcurrencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,256}$/, "must be 1-256 printable ASCII characters without spaces")

const MAX_RETRY_DELAY_MS = 30 * 86_400_000

/**
 * Attempts and the backoff between them: attempt n waits `minDelay × factor^(n-1)` (±20 %
 * jitter), at most `maxDelay`. Fields left out take the runner's defaults (factor 2).
 *
 * @example
 * ```ts
 * RetryOptions.parse({ maxAttempts: 3, factor: 2, minDelay: "1s", maxDelay: "1m" })
 * ```
 */
export const RetryOptions = z
  .strictObject({
    maxAttempts: MaxAttempts.optional(),
    factor: z.number().min(1).max(10).optional(),
    minDelay: DurationString.optional(),
    maxDelay: DurationString.optional(),
  })
  .superRefine((retry, ctx) => {
    const min = retry.minDelay === undefined ? undefined : parseDuration(retry.minDelay)
    const max = retry.maxDelay === undefined ? undefined : parseDuration(retry.maxDelay)
    for (const [field, ms] of [
      ["minDelay", min],
      ["maxDelay", max],
    ] as const) {
      if (ms !== undefined && ms !== null && ms > MAX_RETRY_DELAY_MS) {
        ctx.addIssue({ code: "custom", path: [field], message: "must be at most 30d" })
      }
    }
    if (min != null && max != null && min > max) {
      ctx.addIssue({ code: "custom", path: ["maxDelay"], message: "must not be below minDelay" })
    }
  })
export type RetryOptions = z.infer<typeof RetryOptions>

/**
 * The backoff a run carries (milliseconds), resolved from the task's and the trigger's retry
 * options; absent fields take the runner's defaults.
 *
 * @example
 * ```ts
 * const policy: RunRetryPolicy = { factor: 2, minDelayMs: 1000, maxDelayMs: 60_000 }
 * ```
 */
export interface RunRetryPolicy {
  factor?: number
  minDelayMs?: number
  maxDelayMs?: number
}

/**
 * The flow-control options a trigger or a schedule's run options may give.
 *
 * @example
 * ```ts
 * FlowOptions.parse({ queue: { concurrencyLimit: 2 }, concurrencyKey: "org_42", retry: { maxAttempts: 3 } })
 * ```
 */
export const FlowOptions = z.strictObject({
  /** The run's queue and limit (default: the task's declaration). */
  queue: QueueOptions.optional(),
  /** A limit per value of this key (e.g. a tenant), within the queue. */
  concurrencyKey: ConcurrencyKey.optional(),
  /** Overrides the task's retry fields one by one. */
  retry: RetryOptions.optional(),
})
export type FlowOptions = z.infer<typeof FlowOptions>
