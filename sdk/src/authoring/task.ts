import type { z } from "zod"
import type { TaskContext } from "./context.ts"
import {
  declareTask,
  isZodSchema,
  type QueueOption,
  type RetryOption,
  type SecretOption,
  type TaskRuntime,
} from "./declare.ts"
import { DeclarationError } from "./errors.ts"
import type { Sandbox } from "./sandbox.ts"

declare const payloadType: unique symbol

/**
 * A declared task. Export it from the task project's entry so `helmr deploy` finds it.
 * `Payload` is what triggering it takes (`undefined`: no payload), `Output` what `run` returns.
 *
 * @example
 * ```ts
 * export const reviewPr: Task<"review-pr", { prNumber: number }, { ok: boolean }> = task({ … })
 * ```
 */
export interface Task<
  Id extends string = string,
  Payload = unknown,
  Output = unknown,
  RunPayload = Payload,
> extends TaskRuntime {
  readonly id: Id
  /** Calls the task's `run`; the runner does this inside the sandbox. */
  readonly run: (payload: RunPayload, ctx: TaskContext) => Promise<Output>
  /** Type-only: the payload a trigger takes. Never present at run time. */
  readonly [payloadType]: Payload
}

/**
 * The payload a trigger of task `T` takes; `undefined` when it takes none.
 *
 * @example
 * ```ts
 * type ReviewPayload = TaskPayload<typeof reviewPr> // { prNumber: number }
 * ```
 */
export type TaskPayload<T> = T extends { readonly [payloadType]: infer P } ? P : never
/**
 * What task `T`'s `run` resolves to: the run's output.
 *
 * @example
 * ```ts
 * type ReviewOutput = TaskOutput<typeof reviewPr> // { ok: boolean }
 * ```
 */
export type TaskOutput<T> = T extends { readonly run: (...args: never[]) => Promise<infer O> }
  ? O
  : never
/**
 * The id of task `T`, as a literal type.
 *
 * @example
 * ```ts
 * type ReviewId = TaskIdOf<typeof reviewPr> // "review-pr"
 * ```
 */
export type TaskIdOf<T> = T extends { readonly id: infer Id extends string } ? Id : never

type PayloadOf<S> = S extends z.ZodType ? z.output<S> : undefined
type TriggerPayloadOf<S> = S extends z.ZodType ? z.input<S> : undefined

/**
 * Options of `task()`.
 *
 * @example
 * ```ts
 * const options: TaskOptions<"hello", undefined, string> = { id: "hello", sandbox: sb, run: () => "hi" }
 * ```
 */
export interface TaskOptions<Id extends string, Schema extends z.ZodType | undefined, Output> {
  /** Unique in the project; matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`. */
  id: Id
  /** Where the task runs: a `sandbox(name).image(…)`. */
  sandbox: Sandbox<true>
  /** Seconds before `ctx.signal` aborts and the run ends as timed out. */
  maxDuration?: number
  /** Secrets of the environment injected as env variables. */
  secrets?: readonly SecretOption[]
  /**
   * A zod schema of the payload, checked when the run is started and again before `run`. Without
   * it the task takes no payload. Payloads are stored in plaintext: never put secrets in them.
   */
  payload?: Schema
  /** Concurrency: the task's own queue or a named one, and its limit. */
  queue?: QueueOption
  /** Attempts and backoff between them (default: one attempt). */
  retry?: RetryOption
  /** The work. Its return value becomes the run's output. */
  run: (payload: PayloadOf<Schema>, ctx: TaskContext) => Output | Promise<Output>
}

/**
 * Declares a task. Values are checked now: a bad id, sandbox, resources or secret throws a
 * {@link DeclarationError} naming the task and the field, so `helmr deploy` fails before uploading.
 *
 * @example
 * ```ts
 * import { image, logger, sandbox, task } from "@helmr/sdk"
 * import { z } from "zod"
 *
 * const sb = sandbox("review").image(image("review").from("oven/bun:1")).resources({ cpu: 2, memory: "4Gi" })
 *
 * export const reviewPr = task({
 *   id: "review-pr",
 *   sandbox: sb,
 *   maxDuration: 900,
 *   secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }],
 *   payload: z.object({ prNumber: z.number().int().positive() }),
 *   run: async (payload, ctx) => {
 *     logger.info("reviewing", payload.prNumber)
 *     return { ok: true }
 *   },
 * })
 * ```
 */
export function task<
  const Id extends string,
  Schema extends z.ZodType | undefined = undefined,
  Output = void,
>(
  options: TaskOptions<Id, Schema, Output>,
): Task<Id, TriggerPayloadOf<Schema>, Awaited<Output>, PayloadOf<Schema>> {
  const raw = (options ?? {}) as Partial<Record<keyof TaskOptions<Id, Schema, Output>, unknown>>
  if (raw.payload !== undefined && !isZodSchema(raw.payload)) {
    throw new DeclarationError(
      "payload",
      "must be a zod schema (e.g. z.object({ … })) or left out",
      String(raw.id),
    )
  }
  return declareTask({
    kind: "task",
    id: raw.id,
    sandbox: raw.sandbox,
    maxDuration: raw.maxDuration,
    secrets: raw.secrets,
    payload: raw.payload as z.ZodType | undefined,
    cron: undefined,
    queue: raw.queue,
    retry: raw.retry,
    run: raw.run,
  }) as Task<Id, TriggerPayloadOf<Schema>, Awaited<Output>, PayloadOf<Schema>>
}
