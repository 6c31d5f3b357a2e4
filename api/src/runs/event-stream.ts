import type { Sql } from "@helmr/migrations/db"
import { FINAL_RUN_STATUSES, type RunEventRow, type RunStatus } from "@helmr/migrations/rows"
import type { SSEStreamingApi } from "hono/streaming"
import type { RunNotifier } from "./run-notifier.ts"
import { toRunEvent } from "./serialize.ts"

export interface EventStreamOptions {
  /** Fallback poll of Postgres when no notification arrives (ms). */
  pollMs: number
  /** A comment line at least this often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs: number
}

const BATCH = 500

/**
 * Streams a run's events after `afterId` as SSE (`id:` = event id, `data:` = the RunEvent JSON),
 * then `event: end` with `{ id, status }` once the run is final and every event was sent.
 * Wakes on the run's Valkey channel and polls Postgres as a fallback.
 */
export async function streamRunEvents(
  stream: SSEStreamingApi,
  sql: Sql,
  notifier: RunNotifier,
  runId: string,
  afterId: bigint,
  options: EventStreamOptions,
): Promise<void> {
  let wake: (() => void) | null = null
  let dirty = false
  const unsubscribe = notifier.subscribe(runId, () => {
    dirty = true
    wake?.()
  })
  stream.onAbort(() => wake?.())
  let lastId = afterId
  let lastWrite = Date.now()
  try {
    while (!stream.aborted && !stream.closed) {
      dirty = false
      // Status first: a final status read here means every event of the run is already committed
      // (transitions write the status and their event in one transaction).
      const [run] = await sql<{ status: RunStatus }[]>`select status from runs where id = ${runId}`
      if (!run) return
      const events = await sql<RunEventRow[]>`
        select * from run_events where run_id = ${runId} and id > ${lastId.toString()}
        order by id limit ${BATCH}`
      for (const event of events) {
        await stream.writeSSE({ id: String(event.id), data: JSON.stringify(toRunEvent(event)) })
        lastId = BigInt(event.id)
        lastWrite = Date.now()
      }
      if (events.length === BATCH) continue
      if (FINAL_RUN_STATUSES.includes(run.status)) {
        await stream.writeSSE({
          event: "end",
          data: JSON.stringify({ id: runId, status: run.status }),
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
    unsubscribe()
  }
}
