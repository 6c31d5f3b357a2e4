import type { Sql } from "@helmr/migrations/db"
import { publishRunMessage, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"

/**
 * A run's event recorder: buffers log and build lines and writes them in batches (one statement
 * per batch, in order), then publishes on the run's channel so event streams wake up. A task that
 * floods its output is bounded: beyond `maxPending` lines are dropped and counted.
 */

export interface RunEvent {
  type: string
  level?: string
  message?: string
  data?: Record<string, unknown>
}

export interface EventLog {
  add(event: RunEvent): void
  flush(): Promise<void>
  /** Flushes what is left and stops the timer. */
  close(): Promise<void>
}

const MAX_MESSAGE = 32 * 1024

/** Postgres text and jsonb refuse NUL characters. */
function clean(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "") : text
}

function cleanData(data: Record<string, unknown> | undefined): unknown {
  if (data === undefined) return null
  return JSON.parse(clean(JSON.stringify(data)).replaceAll("\\u0000", ""))
}

export function createEventLog(deps: {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  runId: string
  flushMs?: number
  maxPending?: number
  onError?: (error: unknown) => void
}): EventLog {
  const flushMs = deps.flushMs ?? 100
  const maxPending = deps.maxPending ?? 10_000
  let pending: RunEvent[] = []
  let dropped = 0
  let writing: Promise<void> = Promise.resolve()
  let timer: ReturnType<typeof setTimeout> | null = null

  const write = async (batch: RunEvent[]) => {
    const rows = batch.map((e) => ({
      type: e.type,
      level: e.level ?? null,
      message:
        e.message === undefined
          ? null
          : clean(
              e.message.length > MAX_MESSAGE
                ? `${e.message.slice(0, MAX_MESSAGE)}… (truncated)`
                : e.message,
            ),
      data: cleanData(e.data),
    }))
    await deps.sql`
      insert into run_events (run_id, type, level, message, data)
      select ${deps.runId}, e.type, e.level, e.message, e.data
      from rows from (
        jsonb_to_recordset(${deps.sql.json(rows as never)})
          as (type text, level text, message text, data jsonb)
      ) with ordinality as e(type, level, message, data, n)
      order by e.n`
    await publishRunMessage(deps.valkey, deps.keys, deps.runId, "events").catch(() => 0)
  }

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
    if (dropped > 0) {
      pending.push({
        type: "log",
        level: "warn",
        message: `${dropped} log lines dropped: the task wrote faster than they could be stored`,
      })
      dropped = 0
    }
    const batch = pending
    pending = []
    if (batch.length > 0) {
      writing = writing.then(() => write(batch)).catch((error) => deps.onError?.(error))
    }
    return writing
  }

  return {
    add(event) {
      if (pending.length >= maxPending) {
        dropped += 1
        return
      }
      pending.push(event)
      if (pending.length >= 500) void flush()
      else timer ??= setTimeout(() => void flush(), flushMs)
    },
    flush,
    close: flush,
  }
}
