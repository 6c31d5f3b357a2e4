import type { Sql } from "@helmr/migrations/db"
import { encodeStreamNotice, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import { MAX_STREAM_CHUNK_BYTES, STREAM_NAME_PATTERN, utf8Length } from "@helmr/sdk/contract"

/**
 * Stores the stream chunks a run's sandbox appends, in `stream_chunks` of its session. Chunks
 * queue up while a write is in flight and the next write takes all of them (up to `maxRows`) in
 * one multi-row INSERT, so the batch grows with the load. Writes are serial, which keeps commit
 * order equal to offset order: a reader that saw offset n never later finds a new n-1. Offsets
 * continue from what the session's stream already holds (earlier attempts), read once per
 * stream. After each write the session's channel is told which streams grew.
 */

export interface StreamSink {
  append(name: string, chunks: string[]): void
  /** Resolves when every chunk received so far is stored (or given up on). */
  flush(): Promise<void>
}

const RETRIES = 5

export function createStreamSink(deps: {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  sessionId: string
  maxRows?: number
  onRefused: (message: string) => void
  onError: (error: unknown) => void
}): StreamSink {
  const maxRows = deps.maxRows ?? 5_000
  const next = new Map<string, number>()
  let queue: { name: string; text: string }[] = []
  let writing: Promise<void> | null = null

  const loadOffsets = async (names: string[]) => {
    const missing = names.filter((n) => !next.has(n))
    if (missing.length === 0) return
    const rows = await deps.sql<{ stream: string; next: string }[]>`
      select stream, max(seq) + 1 as next from stream_chunks
      where session_id = ${deps.sessionId} and stream = any(${missing})
      group by stream`
    for (const name of missing) next.set(name, 0)
    for (const row of rows) next.set(row.stream, Number(row.next))
  }

  const write = async (batch: { name: string; text: string }[]) => {
    const names = [...new Set(batch.map((c) => c.name))]
    for (let attempt = 1; ; attempt++) {
      try {
        await loadOffsets(names)
        const offsets = new Map(names.map((n) => [n, next.get(n) ?? 0]))
        const streams: string[] = []
        const seqs: number[] = []
        const data: string[] = []
        for (const chunk of batch) {
          const seq = offsets.get(chunk.name) ?? 0
          offsets.set(chunk.name, seq + 1)
          streams.push(chunk.name)
          seqs.push(seq)
          data.push(chunk.text)
        }
        await deps.sql`
          insert into stream_chunks (session_id, stream, seq, data)
          select ${deps.sessionId}, s, q, d
          from unnest(${streams}::text[], ${seqs}::bigint[], ${data}::text[]) as c(s, q, d)`
        for (const [name, seq] of offsets) next.set(name, seq)
        // Readers get small batches in the message itself (stream-notice.ts).
        const channel = deps.keys.sessionChannel(deps.sessionId)
        for (const name of names) {
          const first = seqs[streams.indexOf(name)] ?? 0
          const texts = data.filter((_d, i) => streams[i] === name)
          const notice = encodeStreamNotice(name, first, texts)
          void deps.valkey.publish(channel, notice).catch(() => 0)
        }
        return
      } catch (error) {
        // Someone else wrote to the stream (a conflicting offset) or Postgres failed: read the
        // offsets again and retry a few times before giving the batch up.
        for (const name of names) next.delete(name)
        if (attempt >= RETRIES) throw error
        await Bun.sleep(50 * attempt)
      }
    }
  }

  const drain = (): Promise<void> => {
    if (writing) return writing
    if (queue.length === 0) return Promise.resolve()
    // Not empty, so the loop awaits before it ends: `writing` is cleared after it was set.
    writing = (async () => {
      try {
        while (queue.length > 0) {
          const batch = queue.length > maxRows ? queue.slice(0, maxRows) : queue
          queue = queue.length > maxRows ? queue.slice(maxRows) : []
          await write(batch).catch((error: unknown) => {
            deps.onError(error)
            deps.onRefused(`${batch.length} stream chunks could not be stored: ${String(error)}`)
          })
        }
      } finally {
        writing = null
      }
    })()
    return writing
  }

  return {
    append(name, chunks) {
      if (!STREAM_NAME_PATTERN.test(name)) {
        deps.onRefused(`stream chunks refused: bad stream name ${JSON.stringify(name)}`)
        return
      }
      for (const text of chunks) {
        const problem = checkChunk(text)
        if (problem) deps.onRefused(`a chunk of stream ${name} was refused: ${problem}`)
        else queue.push({ name, text })
      }
      void drain()
    },
    flush: () => drain(),
  }
}

/** The runtime sends JSON text made by JSON.stringify; anything else did not come from it. */
function checkChunk(text: string): string | null {
  if (utf8Length(text) > MAX_STREAM_CHUNK_BYTES) return "over the cap of 256 KiB"
  // Raw line breaks cannot occur in JSON.stringify output and would split an SSE message.
  if (text.includes("\n") || text.includes("\r")) return "not JSON text from the runtime"
  try {
    JSON.parse(text)
  } catch {
    return "not JSON"
  }
  return null
}
