import { SessionId, StreamName, StreamOffset } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { streamSSE } from "hono/streaming"
import type { ApiDeps, AppEnv } from "../env.ts"
import { ApiError, notFound } from "../errors.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { streamSessionChunks } from "../sessions/stream-sse.ts"

function invalid(path: string, message: string): ApiError {
  return new ApiError(422, "validation_failed", `${path} ${message}`, [{ path, message }])
}

/**
 * Where to start: after `Last-Event-ID` (a reconnect: the id of the last chunk received), else at
 * `?from=` (default 0).
 */
function startOffset(lastEventId: string | undefined, from: string | undefined): number {
  if (lastEventId !== undefined) {
    const parsed = StreamOffset.safeParse(lastEventId)
    if (!parsed.success) throw invalid("Last-Event-ID", "must be a non-negative integer")
    return parsed.data + 1
  }
  if (from === undefined) return 0
  const parsed = StreamOffset.safeParse(from)
  if (!parsed.success) throw invalid("from", "must be a non-negative integer")
  return parsed.data
}

/** Session streams: `GET /sessions/{sessionId}/streams/{name}` (SSE from any offset). */
export function sessionsRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/sessions/:sessionId/streams/:name", async (c) => {
    const sessionId = c.req.param("sessionId")
    if (!SessionId.safeParse(sessionId).success) throw notFound(`session ${sessionId}`)
    const name = c.req.param("name")
    if (!StreamName.safeParse(name).success) {
      throw invalid("name", "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    }
    const from = startOffset(c.req.header("last-event-id"), c.req.query("from"))
    // Another environment's session is as unknown as a missing one.
    const runs = await deps.sql<{ id: string }[]>`
      select r.id from sessions s join runs r on r.session_id = s.id
      where s.id = ${sessionId} and s.environment_id = ${c.get("caller").environmentId}`
    if (runs.length === 0) throw notFound(`session ${sessionId}`)
    const options = {
      pollMs: deps.sse?.pollMs ?? 1000,
      heartbeatMs: deps.sse?.heartbeatMs ?? 8000,
      channel: deps.keys.sessionChannel(sessionId),
      runChannels: runs.map((r) => deps.keys.runChannel(r.id)),
    }
    return streamSSE(c, (stream) =>
      streamSessionChunks(stream, deps.sql, notifier, { sessionId, name, from }, options),
    )
  })
}
