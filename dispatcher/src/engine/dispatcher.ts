import type { Sql } from "@helmr/migrations/db"
import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import type { DispatcherSettings } from "../config.ts"
import type { EngineDeps } from "./deps.ts"
import { runHeldRunLoop } from "./held-runs.ts"
import { createMetrics, type DispatcherMetrics } from "./metrics.ts"
import { type RepairReport, repairAll, runRepairLoop } from "./repair-loop.ts"
import { runScheduleLoop } from "./schedule-loop.ts"
import { runTimerLoop } from "./timers.ts"

export interface DispatcherInput {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  settings: DispatcherSettings
  logger: Logger
  metrics?: DispatcherMetrics
  /** Epoch ms; defaults to Date.now. */
  now?: () => number
}

export interface Dispatcher {
  readonly deps: EngineDeps
  readonly metrics: DispatcherMetrics
  /**
   * Runs every loop (schedules, timers, repair, held runs) until `signal` aborts; resolves once they have
   * drained — batches in flight committed and followed up. Clients stay open: the caller owns them.
   */
  start(signal: AbortSignal): Promise<void>
  /** One repair pass now, regardless of the lock (tests, and an operator's "repair now"). */
  repairOnce(): Promise<RepairReport>
}

/** The dispatcher, in process: main.ts runs one, tests and the benchmark run several. */
export function createDispatcher(input: DispatcherInput): Dispatcher {
  const metrics = input.metrics ?? createMetrics()
  const deps: EngineDeps = {
    sql: input.sql,
    valkey: input.valkey,
    keys: input.keys,
    settings: input.settings,
    logger: input.logger,
    metrics,
    now: input.now ?? Date.now,
  }
  return {
    deps,
    metrics,
    async start(signal) {
      await Promise.all([
        runScheduleLoop(deps, signal),
        runTimerLoop(deps, signal),
        runRepairLoop(deps, signal),
        runHeldRunLoop(deps, signal),
      ])
    },
    repairOnce: () => repairAll(deps),
  }
}
