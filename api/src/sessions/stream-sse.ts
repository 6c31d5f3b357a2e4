import type { Sql } from "@helmr/migrations/db"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
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
 * in one snapshot never ends early nor skips an offset. Wakes on the session's channel (and the
 * runs' channels), and polls Postgres as a fallback.
 */
export async function streamSessionChunks(
  stream: SSEStreamingApi,
  sql: Sql,
  notifier: RunNotifier,
  target: { sessionId: string; name: string; from: number },
  options: SessionStreamOptions,
): Promise<void> {
  let wake: (() => void) | null = null
  let dirty = false
  const onChange = () => {
    dirty = true
    wake?.()
  }
  const unsubscribe = [
    notifier.subscribeChannel(options.channel, (name) => {
      if (name === target.name) onChange()
    }),
    ...options.runChannels.map((channel) => notifier.subscribeChannel(channel, onChange)),
  ]
  stream.onAbort(() => wake?.())
  let next = target.from
  let lastWrite = Date.now()
  try {
    while (!stream.aborted && !stream.closed) {
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
      }
      if (rows.length === BATCH) continue
      if (!active) {
        await stream.writeSSE({
          event: "end",
          data: JSON.stringify({ sessionId: target.sessionId, stream: target.name, next }),
        })
        return
      }
      if (Date.now() - lastWrite >= options.heartbeatMs) {
        await stream.write(": keep-alive\n\n")
        lastWrite = Date.now()
      }
      if (dirty) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(options.pollMs, options.heartbeatMs))
        function done() {
          clearTimeout(timer)
          wake = null
          resolve()
        }
        wake = done
      })
    }
  } finally {
    for (const stop of unsubscribe) stop()
  }
}
