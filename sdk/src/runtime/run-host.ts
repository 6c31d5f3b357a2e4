import type { RunHost } from "./current-run.ts"
import { createMetadataStore } from "./metadata-store.ts"
import type { SandboxMessage, StartMessage } from "./protocol.ts"
import { createStreamWriter } from "./stream-writer.ts"

/**
 * The current-run host the in-sandbox runtime installs for one run: metadata and streams that
 * send their changes to the runner as protocol frames. `flush()` sends whatever is pending; the
 * runtime awaits it before the result, so the runner has everything before the run ends.
 *
 * @example
 * ```ts
 * const { host, flush } = createRunHost(start, send)
 * setCurrentRun(host)
 * const output = await task.run(payload, ctx)
 * await flush()
 * ```
 */
export function createRunHost(
  start: StartMessage,
  send: (message: SandboxMessage) => Promise<void>,
): { host: RunHost; flush: () => Promise<void> } {
  const metadata = createMetadataStore({
    initial: start.metadata ?? {},
    send: (snapshot) => send({ type: "metadata", metadata: snapshot }),
  })
  const streams = createStreamWriter({
    send: (batch) => send({ type: "stream", name: batch.name, chunks: batch.chunks }),
  })
  const host: RunHost = Object.freeze({
    version: 1 as const,
    run: Object.freeze({ id: start.run.id, attempt: start.run.attempt }),
    session: Object.freeze({ id: start.session.id }),
    metadata,
    streams,
  })
  return {
    host,
    flush: async () => {
      await Promise.all([streams.flush(), metadata.flush()])
    },
  }
}
