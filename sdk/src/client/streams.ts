import { ZodError } from "zod"
import { StreamEnd } from "../contract/streams.ts"
import { ConnectionError } from "./errors.ts"
import { parseSse } from "./sse.ts"
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
      let reconnects = 0
      for (;;) {
        const response = await t.stream(path, {
          query: { from: next },
          ...(options.signal ? { signal: options.signal } : {}),
        })
        if (!response.body) throw new ConnectionError("stream without a body")
        try {
          for await (const message of parseSse(response.body)) {
            if (message.event === "end") {
              StreamEnd.parse(JSON.parse(message.data))
              return
            }
            if (message.event !== "message" || message.id === undefined) continue
            const offset = Number(message.id)
            // A reconnect never repeats a chunk: the server starts at `next`, but be strict.
            if (offset < next) continue
            next = offset + 1
            reconnects = 0
            yield { offset, data: JSON.parse(message.data) }
          }
        } catch (error) {
          if (options.signal?.aborted) return
          if (error instanceof SyntaxError || error instanceof ZodError) throw error
        }
        if (options.signal?.aborted) return
        reconnects++
        if (reconnects > (options.maxReconnects ?? 5)) {
          throw new ConnectionError(`stream ${name} of ${sessionId} kept dropping`)
        }
      }
    },
  }
}

export type StreamsNamespace = ReturnType<typeof streamsNamespace>
