import type { Sql } from "@helmr/migrations/db"
import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import type { DispatcherSettings } from "../config.ts"
import type { DispatcherMetrics } from "./metrics.ts"

/** What every part of the engine receives: clients and settings made in main.ts (or a test). */
export interface EngineDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  settings: DispatcherSettings
  metrics: DispatcherMetrics
  logger: Logger
  /** Epoch ms; injected so tests can decide what "now" is. */
  now: () => number
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener("abort", done)
      resolve()
    }
    signal?.addEventListener("abort", done, { once: true })
  })
}
