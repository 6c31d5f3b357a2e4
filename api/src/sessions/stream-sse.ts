import type { Sql } from "@helmr/migrations/db"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
import { decodeStreamNotice } from "@helmr/migrations/valkey"
import type { SSEStreamingApi } from "hono/streaming"
import type { RunNotifier } from "../runs/run-notifier.ts"

export interface SessionStreamOptions {
  /** Fallback poll of Postgres when no notification arrives (ms). */
  pollMs: number
  /** A comment line at least this often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs: number
  /** The session's channel (`keys.sessionChannel`): the runner names the streams it appended to. */
  channel: string
  /** The channels of the session's runs: their end makes the stream complete. */
  runChannels: string[]
}

const BATCH = 1_000
/** Chunks received in notices and not yet written; beyond this, Postgres catches up. */
const MAX_BUFFERED = 10_000

interface Chunk {
  seq: string
  data: string
}

/** One SSE message per chunk; the data is JSON text on one line (the runner refuses others). */
function formatChunks(rows: Chunk[]): string {
  let out = ""
  for (const row of rows) {
    out += `id: ${row.seq}\n`
    for (const line of row.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
    out += "\n"
  }
  return out
}

/**
 * Streams the chunks of one session stream from offset `from` as SSE (`id:` = offset, `data:` =
 * the chunk's JSON), then `event: end` with `{ sessionId, stream, next }` once every run of the
 * session is final and every chunk was sent. The runner stores a run's chunks before it records
 * the run's end, and its writes commit in offset order, so reading the runs' status and the chunks
 * in one snapshot never ends early nor skips an offset. Small batches arrive in the session
 * channel's notices and are written without reading Postgres (stream-notice.ts); anything else
 * (a large batch, a lost notice, a run's end, the poll) reads Postgres.
 */
export async function streamSessionChunks(
  stream: SSEStreamingApi,
  sql: Sql,
  notifier: RunNotifier,
  target: { sessionId: string; name: string; from: number },
  options: SessionStreamOptions,
): Promise<void> {
  let wake: (() => void) | null = null
  let next = target.from
  // Start with a read of Postgres; later only when something other than a usable notice came.
  let dirty = true
  const onChange = () => {
    dirty = true
    wake?.()
  }
  // Chunks that came in notices, by offset: written when their offset is the next one, so a
  // chunk is never written twice nor out of order, whatever Postgres returned meanwhile.
  const buffered = new Map<number, string>()
  const onNotice = (message: string) => {
    const notice = decodeStreamNotice(message)
    if (!notice) return onChange()
    if (notice.name !== target.name) return
    if (!notice.batch || buffered.size + notice.batch.chunks.length > MAX_BUFFERED) {
      return onChange()
    }
    notice.batch.chunks.forEach((data, i) => {
      const offset = (notice.batch?.offset ?? 0) + i
      if (offset >= next) buffered.set(offset, data)
    })
    wake?.()
  }
  const unsubscribe = [
    notifier.subscribeChannel(options.channel, onNotice),
    ...options.runChannels.map((channel) => notifier.subscribeChannel(channel, onChange)),
  ]
  stream.onAbort(() => wake?.())
  let lastWrite = Date.now()
  const writeBuffered = async (): Promise<boolean> => {
    const rows: Chunk[] = []
    for (let data = buffered.get(next + rows.length); data !== undefined; ) {
      rows.push({ seq: String(next + rows.length), data })
      data = buffered.get(next + rows.length)
    }
    if (rows.length === 0) return false
    await stream.write(formatChunks(rows))
    next += rows.length
    lastWrite = Date.now()
    for (const offset of buffered.keys()) if (offset < next) buffered.delete(offset)
    return true
  }
  /** Waits for a notice, a change or the poll; a keep-alive comment when quiet for long. */
  const idle = async () => {
    if (Date.now() - lastWrite >= options.heartbeatMs) {
      await stream.write(": keep-alive\n\n")
      lastWrite = Date.now()
    }
    if (dirty || buffered.has(next)) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          // The fallback poll: read Postgres even without a notice.
          dirty = true
          done()
        },
        Math.min(options.pollMs, options.heartbeatMs),
      )
      function done() {
        clearTimeout(timer)
        wake = null
        resolve()
      }
      wake = done
    })
  }
  try {
    while (!stream.aborted && !stream.closed) {
      if (!dirty) {
        // A notice carried the next chunks: no need to read Postgres for them.
        if (await writeBuffered()) continue
        // A notice that skipped ahead (one was lost): Postgres has the gap.
        if (buffered.size === 0) {
          await idle()
          continue
        }
      }
      dirty = false
      // One statement, one snapshot: if the runs are final in it, so is every chunk they wrote.
      const result = await sql<{ active: boolean; seq: string | null; data: string | null }[]>`
        select a.active, c.seq::text as seq, c.data
        from (
          select exists (
            select 1 from runs where session_id = ${target.sessionId}
              and status not in ${sql(FINAL_RUN_STATUSES as string[])}
          ) as active
        ) a
        left join lateral (
          select seq, data from stream_chunks
          where session_id = ${target.sessionId} and stream = ${target.name} and seq >= ${next}
          order by seq limit ${BATCH}
        ) c on true
        order by c.seq`
      const active = result[0]?.active ?? false
      const rows = result.flatMap((r) => (r.seq === null || r.data === null ? [] : [r as Chunk]))
      if (rows.length > 0) {
        await stream.write(formatChunks(rows))
        next = Number(rows.at(-1)?.seq ?? next - 1) + 1
        lastWrite = Date.now()
        for (const offset of buffered.keys()) if (offset < next) buffered.delete(offset)
      }
      if (rows.length === BATCH) {
        dirty = true // more to read
        continue
      }
      if (!active) {
        await stream.writeSSE({
          event: "end",
          data: JSON.stringify({ sessionId: target.sessionId, stream: target.name, next }),
        })
        return
      }
      await idle()
    }
  } finally {
    for (const stop of unsubscribe) stop()
  }
}
