import { StreamName, StreamOffset } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { streamSSE } from "hono/streaming"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validationFailed, validParams, validQuery } from "../http/validate.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { streamSessionChunks } from "../sessions/stream-sse.ts"

// A malformed session id is answered like a malformed run id on /runs/{id}: no such session, 404
// (only text that cannot be stored at all is a 422, from the shared guard). A stream name is a
// field with a grammar, so one that breaks it is a 422 naming `name`.
const SessionStreamParams = z.object({ sessionId: z.string(), name: StreamName })
const SessionStreamQuery = z.object({ from: StreamOffset.optional() })

/**
 * Where to start: after `Last-Event-ID` (a reconnect: the id of the last chunk received), else at
 * `?from=` (default 0).
 */
function startOffset(lastEventId: string | undefined, from: number | undefined): number {
  if (lastEventId === undefined) return from ?? 0
  const parsed = StreamOffset.safeParse(lastEventId)
  if (!parsed.success) {
    throw validationFailed([{ path: "Last-Event-ID", message: "must be a non-negative integer" }])
  }
  return parsed.data + 1
}

/** Session streams: `GET /sessions/{sessionId}/streams/{name}` (SSE from any offset). */
export function sessionsRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>().get(
    "/sessions/:sessionId/streams/:name",
    validParams(SessionStreamParams),
    validQuery(SessionStreamQuery),
    async (c) => {
      const { sessionId, name } = c.req.valid("param")
      const from = startOffset(c.req.header("last-event-id"), c.req.valid("query").from)
      // Another environment's session, or an id that is not a session id at all, is as unknown
      // as a missing one.
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
    },
  )
}
