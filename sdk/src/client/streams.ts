import { StreamEndAnswer } from "./answers.ts"
import { parseMessage } from "./shape.ts"
import { followSse } from "./sse.ts"
import type { Transport } from "./transport.ts"

/**
 * One chunk of a session stream: its offset and the JSON value the task appended.
 *
 * @example
 * ```ts
 * const chunk: StreamChunk = { offset: 0, data: { stage: "thinking" } }
 * ```
 */
export interface StreamChunk {
  offset: number
  data: unknown
}

/**
 * Where and how `streams.read` reads.
 *
 * @example
 * ```ts
 * const options: StreamReadOptions = { from: 5000, signal: AbortSignal.timeout(60_000) }
 * ```
 */
export interface StreamReadOptions {
  /** First offset to read (default 0). */
  from?: number
  signal?: AbortSignal
  /** Reconnections allowed when the connection drops before the stream ended (default 5). */
  maxReconnects?: number
}

/**
 * `client.streams`: reading session streams.
 *
 * @example
 * ```ts
 * const streams = streamsNamespace(createTransport({ apiUrl, apiKey }))
 * for await (const chunk of streams.read(sessionId, "tokens")) console.log(chunk)
 * ```
 */
export function streamsNamespace(t: Transport) {
  return {
    /**
     * The chunks of a session's stream from `from` (default 0), in order and each once: live
     * while the session's run goes, and done once it ended and every chunk was read. Reconnects
     * from the last offset read if the connection drops.
     *
     * @example
     * for await (const chunk of client.streams.read(run.sessionId, "tokens", { from: 0 })) {
     *   process.stdout.write(String(chunk.data))
     * }
     */
    async *read(
      sessionId: string,
      name: string,
      options: StreamReadOptions = {},
    ): AsyncGenerator<StreamChunk> {
      let next = options.from ?? 0
      if (!Number.isSafeInteger(next) || next < 0) {
        throw new TypeError("from must be a non-negative integer")
      }
      const path = `/sessions/${encodeURIComponent(sessionId)}/streams/${encodeURIComponent(name)}`
      const open = () =>
        t.stream(path, {
          query: { from: next },
          ...(options.signal ? { signal: options.signal } : {}),
        })
      const what = `stream ${name} of ${sessionId}`
      for await (const message of followSse(open, { ...options, what })) {
        if (message.event === "end") {
          parseMessage(StreamEndAnswer, message.data)
          return
        }
        if (message.event !== "message" || message.id === undefined) continue
        const offset = Number(message.id)
        // The server starts at `next` after a reconnect; be strict anyway.
        if (offset < next) continue
        next = offset + 1
        yield { offset, data: JSON.parse(message.data) }
      }
    },
  }
}

/**
 * The type of `client.streams`.
 *
 * @example
 * ```ts
 * const read: StreamsNamespace["read"] = client.streams.read
 * ```
 */
export type StreamsNamespace = ReturnType<typeof streamsNamespace>
