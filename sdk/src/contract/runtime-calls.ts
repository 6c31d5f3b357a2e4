import { z } from "zod"
import { TimestampInput } from "./common.ts"
import { MAX_WAIT_MS } from "./duration.ts"
import { TaskId, TokenId } from "./ids.ts"
import { TriggerOptions } from "./runs.ts"
import { CreateScheduleBody, ListSchedulesQuery, UpdateScheduleBody } from "./schedules.ts"
import { CreateTokenBody } from "./tokens.ts"

/**
 * Calls the in-sandbox runtime makes to its runner (`call` frames of the runner ⇄ sandbox
 * protocol): the method names and the parameters each takes. The runtime builds them, the runner
 * checks them with these schemas (they come from user code) and acts as the run's environment.
 */

/**
 * `timers.wait` / `timers.waitUntil`: a duration in ms from when the runner receives the call,
 * or an absolute time.
 *
 * @example
 * ```ts
 * TimerWaitParams.parse({ ms: 5_000 }); TimerWaitParams.parse({ until: "2026-06-01T09:00:00Z" })
 * ```
 */
export const TimerWaitParams = z.union([
  // At most a year, like a trigger's delay.
  z.strictObject({ ms: z.number().int().min(0).max(MAX_WAIT_MS) }),
  z.strictObject({ until: TimestampInput }),
])
export type TimerWaitParams = z.infer<typeof TimerWaitParams>

/**
 * `tokens.wait(id)` inside a run.
 *
 * @example
 * ```ts
 * TokenWaitParams.parse({ tokenId: "tok_01hz…" })
 * ```
 */
export const TokenWaitParams = z.strictObject({ tokenId: TokenId })

/**
 * `runs.trigger` and `runs.triggerAndWait` inside a run: the child task, its payload, options.
 *
 * @example
 * ```ts
 * RuntimeTriggerParams.parse({ task: "resize", payload: { w: 100 }, options: { tags: ["a"] } })
 * ```
 */
export const RuntimeTriggerParams = z.strictObject({
  task: TaskId,
  payload: z.unknown().optional(),
  options: TriggerOptions.optional(),
})
export type RuntimeTriggerParams = z.infer<typeof RuntimeTriggerParams>

/**
 * A schedule addressed by id or deduplication key.
 *
 * @example
 * ```ts
 * ScheduleRefParams.parse({ id: "nightly-main" })
 * ```
 */
export const ScheduleRefParams = z.strictObject({ id: z.string().min(1).max(256) })
export type ScheduleRefParams = z.infer<typeof ScheduleRefParams>

/**
 * Every method of the runtime channel with its parameter schema.
 *
 * @example
 * ```ts
 * const params = RUNTIME_CALLS["timers.wait"].parse({ ms: 1000 })
 * ```
 */
export const RUNTIME_CALLS = {
  "timers.wait": TimerWaitParams,
  "tokens.create": CreateTokenBody,
  "tokens.wait": TokenWaitParams,
  "runs.trigger": RuntimeTriggerParams,
  "runs.triggerAndWait": RuntimeTriggerParams,
  "schedules.create": CreateScheduleBody,
  "schedules.list": ListSchedulesQuery,
  "schedules.retrieve": ScheduleRefParams,
  "schedules.update": z.strictObject({ id: z.string().min(1).max(256), body: UpdateScheduleBody }),
  "schedules.activate": ScheduleRefParams,
  "schedules.deactivate": ScheduleRefParams,
  "schedules.del": ScheduleRefParams,
} as const

/**
 * A runtime method name.
 *
 * @example
 * ```ts
 * const method: RuntimeMethod = "tokens.create"
 * ```
 */
export type RuntimeMethod = keyof typeof RUNTIME_CALLS

/**
 * Methods that suspend the run until something completes: a run makes one at a time.
 *
 * @example
 * ```ts
 * WAITING_METHODS.includes("timers.wait") // true
 * ```
 */
export const WAITING_METHODS: readonly RuntimeMethod[] = [
  "timers.wait",
  "tokens.wait",
  "runs.triggerAndWait",
]

/**
 * What a wait for a token or a child run resolves to: the completion's data, or why it failed
 * (a token timed out, a child run failed).
 *
 * @example
 * ```ts
 * const result = WaitResult.parse(value)
 * if (result.ok) console.log(result.output)
 * ```
 */
export const WaitResult = z.union([
  z.object({ ok: z.literal(true), id: z.string(), output: z.unknown() }),
  z.object({
    ok: z.literal(false),
    id: z.string(),
    error: z.object({ name: z.string(), message: z.string() }).loose(),
  }),
])
export type WaitResult = z.infer<typeof WaitResult>
