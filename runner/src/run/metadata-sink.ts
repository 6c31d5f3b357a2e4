import type { Sql } from "@helmr/migrations/db"
import { publishRunMessage, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import { MAX_METADATA_BYTES, utf8Length } from "@helmr/sdk/contract"

/**
 * Stores the metadata a run's sandbox reports. The runtime sends the whole object after changes
 * (at most every 100 ms); one write is in flight at a time and only the latest snapshot waits
 * behind it, so a task changing metadata in a tight loop costs a few writes a second. Each write
 * sets `runs.metadata` and records a `metadata` run event in one statement (guarded by the
 * attempt: a replaced attempt writes nothing), then wakes the run's event streams.
 */

export interface MetadataSink {
  update(metadata: Record<string, unknown>): void
  /** Resolves when the latest snapshot is stored. */
  flush(): Promise<void>
}

export function createMetadataSink(deps: {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  runId: string
  attempt: number
  onRefused: (message: string) => void
  onError: (error: unknown) => void
}): MetadataSink {
  let latest: Record<string, unknown> | null = null
  let writing: Promise<void> | null = null

  const write = async (metadata: Record<string, unknown>) => {
    const updated = await deps.sql`
      with updated as (
        update runs set metadata = ${deps.sql.json(metadata as never)}
        where id = ${deps.runId} and attempt = ${deps.attempt}
          and status in ('starting', 'running', 'waiting')
        returning id
      )
      insert into run_events (run_id, type, data)
      select id, 'metadata', ${deps.sql.json({ attempt: deps.attempt, metadata } as never)}
      from updated`
    if (updated.count > 0) {
      await publishRunMessage(deps.valkey, deps.keys, deps.runId, "events").catch(() => 0)
    }
  }

  const drain = (): Promise<void> => {
    if (writing) return writing
    if (!latest) return Promise.resolve()
    // Something to write, so the loop awaits before it ends: `writing` is cleared after it was set.
    writing = (async () => {
      try {
        while (latest) {
          const snapshot = latest
          latest = null
          await write(snapshot).catch(deps.onError)
        }
      } finally {
        writing = null
      }
    })()
    return writing
  }

  return {
    update(metadata) {
      // The runtime checks the cap before it applies a change; this is for a runtime that lies.
      const text = JSON.stringify(metadata)
      const bytes = utf8Length(text)
      if (bytes > MAX_METADATA_BYTES) {
        deps.onRefused(
          `metadata of ${bytes} bytes refused: over the cap of 256 KiB (${MAX_METADATA_BYTES} bytes)`,
        )
        return
      }
      // jsonb refuses NUL characters, even escaped.
      latest = text.includes("\\u0000") ? JSON.parse(text.replaceAll("\\u0000", "")) : metadata
      void drain()
    },
    flush: () => drain(),
  }
}
