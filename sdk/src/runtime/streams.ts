import { requireRun } from "./current-run.ts"
import { checkStreamName } from "./stream-writer.ts"

/**
 * Durable, append-only, named streams of the run's session. Each chunk is any JSON value (at most
 * 256 KiB of JSON); chunks get offsets 0, 1, 2, … per stream, in append order, and are read with
 * `GET /api/v1/sessions/{sessionId}/streams/{name}` (SSE) or the client's `streams.read`. Appends
 * are buffered for a few milliseconds and written in batches; every chunk appended before the run
 * ends is stored before its end is recorded. Both functions throw `OutsideRunError` outside a run.
 *
 * @example
 * ```ts
 * import { streams, task } from "@helmr/sdk"
 * export const chat = task({
 *   id: "chat",
 *   sandbox: sb,
 *   run: async (_payload, ctx) => {
 *     streams.append("status", { stage: "thinking" })
 *     await streams.pipe("tokens", llm.stream(prompt))
 *     return { session: ctx.session.id }
 *   },
 * })
 * ```
 */
export const streams = {
  /**
   * Appends one chunk (synchronous: it is buffered, then written in order). Throws
   * `StreamAppendError` for a bad name or a chunk that is not JSON or over 256 KiB.
   *
   * @example
   * ```ts
   * streams.append("progress", { percent: 40 })
   * ```
   */
  append(name: string, chunk: unknown): void {
    requireRun("streams.append").streams.append(name, chunk)
  },

  /**
   * Appends every item of an (async) iterable, in order; resolves when the source is done and
   * its chunks were handed to the runner. Returns how many chunks were appended.
   *
   * @example
   * ```ts
   * const count = await streams.pipe("tokens", completion) // an AsyncIterable<string>
   * ```
   */
  async pipe(name: string, source: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
    const host = requireRun("streams.pipe")
    checkStreamName("streams.pipe", name)
    let count = 0
    for await (const chunk of source) {
      host.streams.append(name, chunk)
      count += 1
    }
    await host.streams.flush()
    return count
  },
}
