import type { RunRow } from "@helmr/migrations/rows"
import type { MetadataMessage, StreamMessage } from "@helmr/sdk/runtime/protocol"
import type { RunnerDeps } from "./deps.ts"
import type { EventLog } from "./event-log.ts"
import { createMetadataSink } from "./metadata-sink.ts"
import { createStreamSink } from "./stream-sink.ts"

/**
 * Where an attempt's `metadata` and `stream` frames go. What the sinks refuse (over a cap, a bad
 * name) becomes a warning in the run's events; `flush()` runs before the attempt's end is
 * recorded, so readers see every chunk and the last metadata before the run is final.
 */
export interface DurableSinks {
  handle(message: MetadataMessage | StreamMessage): void
  flush(): Promise<void>
}

export function createDurableSinks(
  deps: RunnerDeps,
  run: RunRow,
  events: EventLog,
  onError: (error: unknown) => void,
): DurableSinks {
  const onRefused = (message: string) =>
    events.add({ type: "log", level: "warn", message, data: { attempt: run.attempt } })
  const metadata = createMetadataSink({
    sql: deps.sql,
    valkey: deps.valkey,
    keys: deps.keys,
    runId: run.id,
    attempt: run.attempt,
    onRefused,
    onError,
  })
  const streams = createStreamSink({
    sql: deps.sql,
    valkey: deps.valkey,
    keys: deps.keys,
    sessionId: run.sessionId,
    onRefused,
    onError,
  })
  return {
    handle(message) {
      if (message.type === "metadata") metadata.update(message.metadata)
      else streams.append(message.name, message.chunks)
    },
    async flush() {
      await Promise.all([metadata.flush(), streams.flush()])
    },
  }
}
