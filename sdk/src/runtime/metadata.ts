import { requireRun } from "./current-run.ts"

/**
 * The current run's metadata: a small JSON object (at most 256 KiB) the task changes while it
 * runs, stored with the run at least every second and when it ends. It is in `GET /runs/{id}`
 * (`metadata`) and in the run's event stream as `metadata` events. Reads are synchronous and see
 * the task's own writes at once. Every function throws `OutsideRunError` outside a task run.
 *
 * @example
 * ```ts
 * import { metadata, task } from "@helmr/sdk"
 * export const importRows = task({
 *   id: "import-rows",
 *   sandbox: sb,
 *   run: async () => {
 *     metadata.set("stage", "downloading")
 *     for (const row of rows) {
 *       await save(row)
 *       metadata.increment("done")
 *     }
 *     metadata.append("log", "finished")
 *     return metadata.current()
 *   },
 * })
 * ```
 */
export const metadata = {
  /**
   * Sets a key to a JSON value. Throws `MetadataTooLargeError` (nothing changed) past 256 KiB.
   *
   * @example
   * ```ts
   * metadata.set("progress", { done: 3, total: 10 })
   * ```
   */
  set(key: string, value: unknown): void {
    requireRun("metadata.set").metadata.set(key, value)
  },

  /**
   * A copy of a key's value, or undefined.
   *
   * @example
   * ```ts
   * const stage = metadata.get("stage")
   * ```
   */
  get(key: string): unknown {
    return requireRun("metadata.get").metadata.get(key)
  },

  /**
   * Removes a key.
   *
   * @example
   * ```ts
   * metadata.del("tmp")
   * ```
   */
  del(key: string): void {
    requireRun("metadata.del").metadata.del(key)
  },

  /**
   * Adds to a number (a missing key counts as 0).
   *
   * @example
   * ```ts
   * metadata.increment("processed") // +1
   * metadata.increment("bytes", 4096)
   * ```
   */
  increment(key: string, by = 1): void {
    requireRun("metadata.increment").metadata.increment(key, by)
  },

  /**
   * Subtracts from a number (a missing key counts as 0).
   *
   * @example
   * ```ts
   * metadata.decrement("remaining")
   * ```
   */
  decrement(key: string, by = 1): void {
    requireRun("metadata.decrement").metadata.increment(key, -by)
  },

  /**
   * Appends to a list (a missing key becomes a list; a single value becomes the list's first item).
   *
   * @example
   * ```ts
   * metadata.append("steps", "cloned")
   * ```
   */
  append(key: string, value: unknown): void {
    requireRun("metadata.append").metadata.append(key, value)
  },

  /**
   * A copy of the whole metadata object.
   *
   * @example
   * ```ts
   * const { stage, done } = metadata.current()
   * ```
   */
  current(): Record<string, unknown> {
    return requireRun("metadata.current").metadata.current()
  },
}
