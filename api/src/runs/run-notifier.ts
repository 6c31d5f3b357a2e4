import {
  publishRunMessage,
  type RunChannelMessage,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"
import type { Logger } from "pino"

/**
 * Wakes event streams when a run changes. Whoever writes run events (the runner, the API's
 * cancel) publishes on `keys.runChannel(runId)`; streams also poll Postgres, so a lost message
 * only delays them. One subscriber connection serves every stream of the app, and is closed
 * while no stream listens.
 */
export interface RunNotifier {
  /** Calls `onChange` on every message for the run; returns the unsubscribe function. */
  subscribe(runId: string, onChange: () => void): () => void
  publish(runId: string, message: RunChannelMessage): Promise<void>
}

export function createRunNotifier(valkey: Valkey, keys: ValkeyKeys, logger: Logger): RunNotifier {
  const listeners = new Map<string, Set<() => void>>()
  let subscriber: Valkey | null = null

  const connect = (): Valkey => {
    if (subscriber) return subscriber
    const s = valkey.duplicate()
    s.on("message", (channel: string) => {
      for (const listener of listeners.get(channel) ?? []) listener()
    })
    s.on("error", (error: unknown) => logger.warn({ err: error }, "run notifier: Valkey error"))
    subscriber = s
    return s
  }

  return {
    subscribe(runId, onChange) {
      const channel = keys.runChannel(runId)
      let set = listeners.get(channel)
      if (!set) {
        set = new Set()
        listeners.set(channel, set)
        connect()
          .subscribe(channel)
          .catch((error: unknown) => logger.warn({ err: error, runId }, "subscribe failed"))
      }
      set.add(onChange)
      return () => {
        const current = listeners.get(channel)
        current?.delete(onChange)
        if (current && current.size === 0) {
          listeners.delete(channel)
          subscriber?.unsubscribe(channel).catch(() => {})
        }
        if (listeners.size === 0 && subscriber) {
          subscriber.disconnect()
          subscriber = null
        }
      }
    },
    async publish(runId, message) {
      try {
        await publishRunMessage(valkey, keys, runId, message)
      } catch (error) {
        logger.warn({ err: error, runId }, "run notifier: publish failed")
      }
    },
  }
}
