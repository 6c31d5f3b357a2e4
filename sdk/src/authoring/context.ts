/**
 * The read-only execution context a task's `run` receives as its second argument.
 *
 * @example
 * ```ts
 * export const build = task({
 *   id: "build",
 *   sandbox: sb,
 *   run: async (_payload, ctx) => {
 *     const res = await fetch("https://example.com", { signal: ctx.signal })
 *     return { run: ctx.run.id, workspace: ctx.workspace, status: res.status }
 *   },
 * })
 * ```
 */
export interface TaskContext {
  /** Aborts when the run is canceled or reaches its maxDuration; pass it to fetch and friends. */
  readonly signal: AbortSignal
  readonly run: { readonly id: string }
  readonly task: { readonly id: string }
  /** Absolute path of the session's workspace inside the sandbox. */
  readonly workspace: string
  readonly session: { readonly id: string }
}
