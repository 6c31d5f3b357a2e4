import { parseRunMessage, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"

/**
 * Listens on the channels of the runs this runner executes for `cancel` (published by the API
 * next to the `cancel_requested` run event). One subscriber connection serves every run. A lost
 * message only delays the cancel: heartbeats also look for the event.
 */
export interface CancelWatch {
  watch(runId: string, onCancel: () => void): () => void
  close(): void
}

export function createCancelWatch(valkey: Valkey, keys: ValkeyKeys, logger: Logger): CancelWatch {
  const listeners = new Map<string, () => void>()
  let subscriber: Valkey | null = null

  const connect = (): Valkey => {
    if (subscriber) return subscriber
    const s = valkey.duplicate()
    s.on("message", (channel: string, message: string) => {
      if (parseRunMessage(message) === "cancel") listeners.get(channel)?.()
    })
    s.on("error", (error: unknown) => logger.warn({ err: error }, "cancel watch: Valkey error"))
    subscriber = s
    return s
  }

  return {
    watch(runId, onCancel) {
      const channel = keys.runChannel(runId)
      listeners.set(channel, onCancel)
      connect()
        .subscribe(channel)
        .catch((error: unknown) =>
          logger.warn({ err: error, runId }, "cancel watch: subscribe failed"),
        )
      return () => {
        listeners.delete(channel)
        subscriber?.unsubscribe(channel).catch(() => {})
      }
    },
    close() {
      subscriber?.disconnect()
      subscriber = null
    },
  }
}
