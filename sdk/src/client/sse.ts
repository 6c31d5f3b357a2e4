import { ConnectionError } from "./errors.ts"

/** One message of a `text/event-stream`. */
export interface SseMessage {
  event: string
  data: string
  id?: string
}

/**
 * Parses a `text/event-stream` body into messages (the WHATWG rules: `event`, `data` lines joined
 * with newlines, `id`, comments ignored, a blank line ends a message). Runtime-neutral: only
 * ReadableStream and TextDecoder.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  let event = ""
  let data: string[] = []
  let id: string | undefined
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let newline = buffer.search(/\r\n|\r|\n/)
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        const width = buffer.startsWith("\r\n", newline) ? 2 : 1
        buffer = buffer.slice(newline + width)
        if (line === "") {
          if (data.length > 0) {
            yield { event: event || "message", data: data.join("\n"), ...(id ? { id } : {}) }
          }
          event = ""
          data = []
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":")
          const field = colon < 0 ? line : line.slice(0, colon)
          const raw = colon < 0 ? "" : line.slice(colon + 1)
          const text = raw.startsWith(" ") ? raw.slice(1) : raw
          if (field === "event") event = text
          else if (field === "data") data.push(text)
          else if (field === "id") id = text
        }
        newline = buffer.search(/\r\n|\r|\n/)
      }
    }
  } finally {
    reader.releaseLock()
    await body.cancel().catch(() => {})
  }
}

/**
 * The messages of an SSE resource that reconnects when the connection drops before an `end`
 * event: `open` is called again and must resume where the caller got to (its last id or offset).
 * Ends after yielding `end`, or quietly when `signal` aborts. An error the caller throws while
 * handling a message (a malformed message) is not retried: it ends the iteration.
 *
 * @example
 * for await (const m of followSse(() => fetch(url, { headers }), { what: "event stream" })) {
 *   if (m.event === "end") break
 * }
 */
export async function* followSse(
  open: () => Promise<Response>,
  options: { what: string; signal?: AbortSignal; maxReconnects?: number },
): AsyncGenerator<SseMessage> {
  let reconnects = 0
  for (;;) {
    const response = await open()
    if (!response.body) throw new ConnectionError(`${options.what} without a body`)
    try {
      for await (const message of parseSse(response.body)) {
        reconnects = 0
        yield message
        if (message.event === "end") return
      }
    } catch {
      // A dropped connection: reconnect (the caller's own errors never arrive here).
      if (options.signal?.aborted) return
    }
    if (options.signal?.aborted) return
    reconnects++
    if (reconnects > (options.maxReconnects ?? 5)) {
      throw new ConnectionError(`${options.what} kept dropping`)
    }
  }
}
