import { defaultClient } from "../client/facade.ts"
import type { TriggerResult, TriggerRunOptions } from "../client/runs.ts"
import { callRuntime, insideRun } from "./rpc.ts"

/**
 * The outcome of `runs.triggerAndWait`: the child's output, or its error when it did not
 * succeed (`status` says how it ended).
 *
 * @example
 * ```ts
 * const child: ChildRunResult<{ size: number }> = await runs.triggerAndWait("resize", { w: 64 })
 * if (child.ok) console.log(child.output.size)
 * ```
 */
export type ChildRunResult<T = unknown> =
  | { ok: true; id: string; status: "succeeded"; output: T }
  | { ok: false; id: string; status: string; error: { name: string; message: string } }

function wireOptions(options: TriggerRunOptions): Record<string, unknown> {
  const { delay, ...rest } = options
  return {
    ...rest,
    ...(delay === undefined ? {} : { delay: delay instanceof Date ? delay.toISOString() : delay }),
  }
}

function params(taskId: string, payload: unknown, options: TriggerRunOptions) {
  const opts = wireOptions(options)
  return {
    task: taskId,
    ...(payload === undefined ? {} : { payload }),
    ...(Object.keys(opts).length > 0 ? { options: opts } : {}),
  }
}

/**
 * Start runs of other tasks. Inside a run the calls go through the runner and act in the run's
 * environment (no API key in the sandbox); elsewhere `trigger` uses the configured client.
 *
 * @example
 * ```ts
 * import { runs } from "@helmr/sdk"
 * const { id } = await runs.trigger("send-email", { to: "a@example.com" })
 * const child = await runs.triggerAndWait("resize", { width: 64 })
 * ```
 */
export const runs = {
  /**
   * Starts a run of a task of the environment's current deployment. Inside a run, a trigger
   * without `idempotencyKey` is keyed by its place in the attempt, so the runtime resending it
   * (after a runner restart) never makes a second run.
   *
   * @example
   * const { id } = await runs.trigger("send-email", { to: "a@example.com" }, { delay: "5m" })
   */
  async trigger(
    taskId: string,
    payload?: unknown,
    options: TriggerRunOptions = {},
  ): Promise<TriggerResult> {
    if (!insideRun()) return defaultClient().runs.trigger(taskId, payload, options)
    return (await callRuntime(
      "runs.trigger",
      "runs.trigger",
      params(taskId, payload, options),
    )) as TriggerResult
  },

  /**
   * Starts a child run and waits (durably: this run goes `waiting`) until it ends. Only inside a
   * run. A retried attempt gets the child the first attempt started.
   *
   * @example
   * const child = await runs.triggerAndWait<{ url: string }>("render", { page: 1 })
   * if (!child.ok) throw new Error(child.error.message)
   */
  async triggerAndWait<T = unknown>(
    taskId: string,
    payload?: unknown,
    options: TriggerRunOptions = {},
  ): Promise<ChildRunResult<T>> {
    return (await callRuntime(
      "runs.triggerAndWait",
      "runs.triggerAndWait",
      params(taskId, payload, options),
    )) as ChildRunResult<T>
  },
}
