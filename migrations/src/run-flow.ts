import {
  type FlowOptions,
  parseDuration,
  type QueueOptions,
  type RetryOptions,
  type RunRetryPolicy,
} from "@helmr/sdk/contract"

/**
 * What a run carries for flow control, resolved once when it is created (API trigger, batch,
 * schedule fire) from the task's declaration and the caller's options. Pure; one owner for every
 * service that creates runs.
 */

/** The part of a deployed task's manifest entry flow control reads. */
export interface DeclaredFlow {
  id: string
  queue?: QueueOptions | undefined
  retry?: RetryOptions | undefined
}

export interface RunFlow {
  /** A named queue, or `task:<task id>` (ids cannot contain `:`, so the two never collide). */
  queue: string
  concurrencyKey: string | null
  /** Runs of this queue and key starting or running at once; null: unlimited. */
  concurrencyLimit: number | null
  maxAttempts: number
  /** Backoff between attempts; null: the runner's defaults. */
  retry: RunRetryPolicy | null
}

/** Limits of the named queues a deployment's tasks declare. */
export function namedQueueLimits(tasks: readonly DeclaredFlow[]): Map<string, number> {
  const limits = new Map<string, number>()
  for (const task of tasks) {
    const { name, concurrencyLimit } = task.queue ?? {}
    if (name !== undefined && concurrencyLimit !== undefined && !limits.has(name))
      limits.set(name, concurrencyLimit)
  }
  return limits
}

/**
 * The run's queue, key, limit, attempts and backoff. Options win over the declaration field by
 * field; a named queue without a limit in the options takes the limit the deployment declares
 * for that name.
 *
 * @example
 * resolveRunFlow({ id: "mail", queue: { concurrencyLimit: 2 } }, new Map(), { concurrencyKey: "org_1" })
 * // { queue: "task:mail", concurrencyKey: "org_1", concurrencyLimit: 2, maxAttempts: 1, retry: null }
 */
export function resolveRunFlow(
  task: DeclaredFlow,
  queueLimits: ReadonlyMap<string, number>,
  options: FlowOptions & { maxAttempts?: number | undefined },
): RunFlow {
  const name = options.queue?.name ?? task.queue?.name
  const declaredLimit = name === undefined ? task.queue?.concurrencyLimit : queueLimits.get(name)
  const retry = { ...task.retry, ...definedFields(options.retry ?? {}) }
  const policy: RunRetryPolicy = {}
  if (retry.factor !== undefined) policy.factor = retry.factor
  const minDelayMs = retry.minDelay === undefined ? null : parseDuration(retry.minDelay)
  const maxDelayMs = retry.maxDelay === undefined ? null : parseDuration(retry.maxDelay)
  if (minDelayMs !== null) policy.minDelayMs = minDelayMs
  if (maxDelayMs !== null) policy.maxDelayMs = maxDelayMs
  return {
    queue: name ?? `task:${task.id}`,
    concurrencyKey: options.concurrencyKey ?? null,
    concurrencyLimit: options.queue?.concurrencyLimit ?? declaredLimit ?? null,
    maxAttempts: options.maxAttempts ?? retry.maxAttempts ?? 1,
    retry: Object.keys(policy).length > 0 ? policy : null,
  }
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
