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
  /** The same for any channel (a session's streams: `keys.sessionChannel`). */
  subscribeChannel(channel: string, onChange: (message: string) => void): () => void
  publish(runId: string, message: RunChannelMessage): Promise<void>
}

export function createRunNotifier(valkey: Valkey, keys: ValkeyKeys, logger: Logger): RunNotifier {
  const listeners = new Map<string, Set<(message: string) => void>>()
  let subscriber: Valkey | null = null

  const connect = (): Valkey => {
    if (subscriber) return subscriber
    const s = valkey.duplicate()
    s.on("message", (channel: string, message: string) => {
      for (const listener of listeners.get(channel) ?? []) listener(message)
    })
    s.on("error", (error: unknown) => logger.warn({ err: error }, "run notifier: Valkey error"))
    subscriber = s
    return s
  }

  const subscribeChannel = (channel: string, onChange: (message: string) => void) => {
    let set = listeners.get(channel)
    if (!set) {
      set = new Set()
      listeners.set(channel, set)
      connect()
        .subscribe(channel)
        .catch((error: unknown) => {
          // A stream that ended at once closes the connection under its own subscribe.
          if (listeners.has(channel)) logger.warn({ err: error, channel }, "subscribe failed")
        })
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
  }

  return {
    subscribe: (runId, onChange) => subscribeChannel(keys.runChannel(runId), () => onChange()),
    subscribeChannel,
    async publish(runId, message) {
      try {
        await publishRunMessage(valkey, keys, runId, message)
      } catch (error) {
        logger.warn({ err: error, runId }, "run notifier: publish failed")
      }
    },
  }
}
