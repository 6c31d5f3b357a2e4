import type { Sql } from "@helmr/migrations/db"

export interface RunStream {
  name: string
  chunks: number
  /** The stream's text, cut to its last `MAX_STREAM_CHARS` characters for the page. */
  text: string
}

const MAX_STREAM_CHARS = 64 * 1024

/**
 * The streams of a run's session (`stream_chunks`), one chunk (JSON text) a line, in order.
 * Display only: the runner writes chunks and `GET /sessions/{id}/streams/{name}` serves them by
 * offset.
 */
export async function listRunStreams(sql: Sql, sessionId: string): Promise<RunStream[]> {
  const rows = await sql<{ stream: string; chunks: string; text: string }[]>`
    select stream, count(*)::text as chunks,
      right(string_agg(data, E'\n' order by seq), ${MAX_STREAM_CHARS}) as text
    from stream_chunks where session_id = ${sessionId}
    group by stream order by stream`
  return rows.map((r) => ({ name: r.stream, chunks: Number(r.chunks), text: r.text }))
}
