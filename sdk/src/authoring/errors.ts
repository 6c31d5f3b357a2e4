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
