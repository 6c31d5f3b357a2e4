/**
 * What the runner publishes on `keys.sessionChannel(sessionId)` after it stored stream chunks, and
 * how the API reads it. A small batch travels whole (`{"n","o","c"}`: stream name, offset of the
 * first chunk, the chunks' JSON texts), so a live reader gets it without reading Postgres again;
 * a large one is announced by the bare stream name and read from Postgres. Pub/sub is lossy:
 * readers poll Postgres as well, and write a chunk only when its offset is the next they expect.
 */

/** Batches up to this many characters of chunk text travel in the message. */
export const STREAM_NOTICE_MAX_CHARS = 64 * 1024

export interface StreamNotice {
  name: string
  /** Offset of `chunks[0]`, with the chunks when they travel in the message. */
  batch?: { offset: number; chunks: string[] }
}

export function encodeStreamNotice(name: string, offset: number, chunks: string[]): string {
  let chars = 0
  for (const chunk of chunks) chars += chunk.length
  return chars > STREAM_NOTICE_MAX_CHARS ? name : JSON.stringify({ n: name, o: offset, c: chunks })
}

/** A stream name cannot start with `{`, so the two forms never mix. */
export function decodeStreamNotice(message: string): StreamNotice | null {
  if (!message.startsWith("{")) return { name: message }
  try {
    const value = JSON.parse(message) as { n?: unknown; o?: unknown; c?: unknown }
    if (
      typeof value.n !== "string" ||
      !Number.isSafeInteger(value.o) ||
      !Array.isArray(value.c) ||
      !value.c.every((c) => typeof c === "string")
    ) {
      return null
    }
    return { name: value.n, batch: { offset: value.o as number, chunks: value.c as string[] } }
  } catch {
    return null
  }
}
