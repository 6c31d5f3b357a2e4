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
