/**
 * Thrown when a task, sandbox or image is declared with a value Helmr cannot run. The message names
 * the task (when known), the sandbox or image, and the field, e.g.
 * `task "review-pr": sandbox "review": resources.memory: "4G" is not a size …`, so `helmr deploy`
 * can print it as is.
 *
 * @example
 * ```ts
 * import { DeclarationError, task } from "@helmr/sdk"
 * try {
 *   task({ id: "bad id", sandbox: sb, run: async () => {} })
 * } catch (error) {
 *   if (error instanceof DeclarationError) console.error(error.field) // "id"
 * }
 * ```
 */
export class DeclarationError extends Error {
  override name = "DeclarationError"

  constructor(
    /** The field that is wrong, as a dotted path (`id`, `cron.timezone`, `resources.memory`). */
    readonly field: string,
    /** What is wrong with it. */
    readonly problem: string,
    /** The task id, when the problem belongs to a task. */
    readonly task?: string,
    /** The sandbox or image the field belongs to (`sandbox "review"`). */
    readonly subject?: string,
  ) {
    const where = [task === undefined ? undefined : `task ${JSON.stringify(task)}`, subject]
    super([...where.filter((part) => part !== undefined), field, problem].join(": "))
  }

  /** The same problem, named for the task that uses the sandbox or image it was found in. */
  forTask(taskId: string): DeclarationError {
    return new DeclarationError(this.field, this.problem, taskId, this.subject)
  }
}

/**
 * Marks an error as final across copies of the SDK (a task bundle carries its own copy, the
 * runtime another): the runtime serialises an error carrying it with `retryable: false`.
 */
export const NON_RETRIABLE: unique symbol = Symbol.for("helmr.sdk.nonRetriable") as never

/**
 * Throw it from a task to fail the run at once: no further attempt, whatever `retry` says. Use
 * it when retrying cannot help (for example, an external reply that fails validation).
 *
 * @example
 * ```ts
 * import { NonRetriableError, task } from "@helmr/sdk"
 * export const sync = task({
 *   id: "sync", sandbox: sb, retry: { maxAttempts: 5 },
 *   run: async () => {
 *     const reply = await fetch("https://api.example.com/items").then((r) => r.json())
 *     if (!Array.isArray(reply)) throw new NonRetriableError("the API answered something else than a list")
 *   },
 * })
 * ```
 */
export class NonRetriableError extends Error {
  override name = "NonRetriableError"
  readonly [NON_RETRIABLE] = true
}

/**
 * The same as {@link NonRetriableError}, under the name Trigger.dev users know: the run fails at
 * once, with no further attempt.
 *
 * @example
 * ```ts
 * import { AbortTaskRunError } from "@helmr/sdk"
 * if (!account) throw new AbortTaskRunError(`account ${id} does not exist`)
 * ```
 */
export class AbortTaskRunError extends NonRetriableError {
  override name = "AbortTaskRunError"
}
