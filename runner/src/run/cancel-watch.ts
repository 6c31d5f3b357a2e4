import { parseRunMessage, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"

/**
 * Listens on the channels of the runs this runner executes for `cancel` (published by the API
 * next to the `cancel_requested` run event). One subscriber connection serves every run. A lost
 * message only delays the cancel: heartbeats also look for the event. `status` and
 * `token_completed` go to `onChange` (a waiting run may be due again: the run loop looks at once
 * instead of at its next poll).
 */
export interface CancelWatch {
  watch(runId: string, onCancel: () => void, onChange?: () => void): () => void
  close(): void
}

export function createCancelWatch(valkey: Valkey, keys: ValkeyKeys, logger: Logger): CancelWatch {
  const listeners = new Map<string, { onCancel(): void; onChange?: () => void }>()
  let subscriber: Valkey | null = null

  const connect = (): Valkey => {
    if (subscriber) return subscriber
    const s = valkey.duplicate()
    s.on("message", (channel: string, message: string) => {
      // `canceled`: the API canceled a waiting run at once; its parked sandbox must go too.
      const kind = parseRunMessage(message)
      const listener = listeners.get(channel)
      if (kind === "cancel" || kind === "canceled") listener?.onCancel()
      else if (kind === "status" || kind === "token_completed") listener?.onChange?.()
    })
    s.on("error", (error: unknown) => logger.warn({ err: error }, "cancel watch: Valkey error"))
    subscriber = s
    return s
  }

  return {
    watch(runId, onCancel, onChange) {
      const channel = keys.runChannel(runId)
      listeners.set(channel, onChange ? { onCancel, onChange } : { onCancel })
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
