import { z } from "zod"
import { SessionId } from "./ids.ts"
import { STREAM_NAME_PATTERN } from "./runtime-limits.ts"

/**
 * A stream name (`streams.append(name, …)`, `GET /sessions/{id}/streams/{name}`).
 *
 * @example
 * ```ts
 * StreamName.parse("llm-tokens")
 * ```
 */
export const StreamName = z
  .string()
  .regex(STREAM_NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
export type StreamName = z.infer<typeof StreamName>

/**
 * An offset in a stream: chunks are numbered 0, 1, 2, … (the SSE event id is the offset).
 *
 * @example
 * ```ts
 * StreamOffset.parse("5000") // 5000
 * ```
 */
export const StreamOffset = z
  .string()
  .regex(/^\d{1,15}$/, "must be a non-negative integer")
  .transform(Number)

/**
 * The last SSE message of a session stream (`event: end`): every run of the session ended and
 * every chunk was sent; `next` is the offset the next chunk would have had.
 *
 * @example
 * ```ts
 * const { next } = StreamEnd.parse(JSON.parse(message.data))
 * ```
 */
export const StreamEnd = z.object({ sessionId: SessionId, stream: StreamName, next: z.number() })
export type StreamEnd = z.infer<typeof StreamEnd>
