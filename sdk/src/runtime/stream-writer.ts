import {
  MAX_STREAM_CHUNK_BYTES,
  STREAM_NAME_PATTERN,
  utf8Length,
} from "../contract/runtime-limits.ts"
import type { StreamsHost } from "./current-run.ts"

/**
 * Stream appends inside the sandbox: each chunk is checked and turned into JSON text at once (so a
 * later change to the object does not change what was appended), buffered, and sent to the runner
 * in frames of many chunks every `flushMs` or sooner when a batch is full. Order is kept across
 * streams; the runner gives each chunk its offset.
 */

/**
 * Consecutive chunks of one stream, as one frame to the runner.
 *
 * @example
 * ```ts
 * const batch: StreamBatch = { name: "tokens", chunks: ['"Hel"', '"lo"'] }
 * ```
 */
export interface StreamBatch {
  name: string
  chunks: string[]
}

/**
 * A stream append that cannot be stored (bad name, chunk too large or not JSON).
 *
 * @example
 * ```ts
 * try { streams.append("bad name", 1) } catch (e) { if (e instanceof StreamAppendError) … }
 * ```
 */
export class StreamAppendError extends Error {
  override name = "StreamAppendError"
  /** Also true for this error made by another copy of the SDK (the runtime's, a bundle's). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === "StreamAppendError"
  }
}

/**
 * Checks a stream name; throws a `StreamAppendError` naming the rule.
 *
 * @example
 * ```ts
 * checkStreamName("streams.pipe", "tokens")
 * ```
 */
export function checkStreamName(api: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || !STREAM_NAME_PATTERN.test(name)) {
    throw new StreamAppendError(
      `${api}: stream name ${JSON.stringify(name)} must match ${STREAM_NAME_PATTERN.source}`,
    )
  }
}

/**
 * The buffered stream appender of one run.
 *
 * @example
 * ```ts
 * const writer = createStreamWriter({ send: (batch) => sendFrame(batch) })
 * writer.append("tokens", "Hello")
 * await writer.flush()
 * ```
 */
export function createStreamWriter(options: {
  send: (batch: StreamBatch) => Promise<void>
  flushMs?: number
  maxBatchChunks?: number
  maxBatchBytes?: number
}): StreamsHost {
  const flushMs = options.flushMs ?? 5
  const maxChunks = options.maxBatchChunks ?? 1_000
  const maxBytes = options.maxBatchBytes ?? 1 << 20
  let pending: { name: string; text: string }[] = []
  let pendingBytes = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let sending: Promise<void> = Promise.resolve()

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
    if (pending.length === 0) return sending
    const items = pending
    pending = []
    pendingBytes = 0
    // Consecutive chunks of one stream share a frame; frames go out in append order.
    const batches: StreamBatch[] = []
    for (const item of items) {
      const last = batches.at(-1)
      if (last && last.name === item.name) last.chunks.push(item.text)
      else batches.push({ name: item.name, chunks: [item.text] })
    }
    for (const batch of batches) sending = sending.then(() => options.send(batch))
    return sending
  }

  return {
    append(name, chunk) {
      checkStreamName("streams.append", name)
      let text: string | undefined
      try {
        text = JSON.stringify(chunk)
      } catch (error) {
        throw new StreamAppendError(`streams.append: the chunk is not JSON (${String(error)})`)
      }
      if (text === undefined) {
        throw new StreamAppendError(`streams.append: the chunk is not JSON (${typeof chunk})`)
      }
      const bytes = utf8Length(text)
      if (bytes > MAX_STREAM_CHUNK_BYTES) {
        throw new StreamAppendError(
          `streams.append: the chunk is ${bytes} bytes of JSON, over the cap of 256 KiB (${MAX_STREAM_CHUNK_BYTES} bytes)`,
        )
      }
      pending.push({ name, text })
      pendingBytes += bytes
      if (pending.length >= maxChunks || pendingBytes >= maxBytes) void flush()
      else timer ??= setTimeout(() => void flush(), flushMs)
    },
    flush,
  }
}
