import { hostname } from "node:os"
import { configFields } from "@helmr/migrations/config"
import { z } from "zod"

const ms = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback)

export const DispatcherConfig = z.object({
  HELMR_DATABASE_URL: configFields.databaseUrl,
  HELMR_VALKEY_URL: configFields.valkeyUrl,
  HELMR_KEY_PREFIX: configFields.keyPrefix.default("helmr"),
  HELMR_LOG_LEVEL: configFields.logLevel.default("info"),
  /** Port of the health and metrics endpoint. */
  HELMR_DISPATCHER_PORT: configFields.port.default(3001),
  HELMR_MIGRATE_ON_START: z.enum(["true", "false"]).default("true"),
  /** Names this dispatcher in logs and Postgres (application_name). */
  HELMR_DISPATCHER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
    .default(
      `${hostname()
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, 40)}-${process.pid}`,
    ),
  /** Postgres connections of this dispatcher (fires in flight hold one each). */
  HELMR_DISPATCHER_DB_POOL: z.coerce.number().int().min(2).max(100).default(10),
  /** How long SIGTERM waits for in-flight fires before closing connections anyway. */
  HELMR_DISPATCHER_DRAIN_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  /** How long a leased schedule slot or timer stays hidden from other dispatchers. */
  HELMR_SCHEDULE_LEASE_MS: ms(200, 600_000, 30_000),
  /** Entries leased (and fired in one transaction) at a time. */
  HELMR_SCHEDULE_BATCH_SIZE: ms(1, 5_000, 1_000),
  /** Batches in flight in one dispatcher (keep it below the pool: timers and repair need one). */
  HELMR_FIRE_CONCURRENCY: ms(1, 64, 8),
  /**
   * How early a slot is staged: its fire transaction is prepared this long before the slot and
   * committed at the slot, so a burst of thousands commits on time. 0 stages nothing.
   */
  HELMR_FIRE_PREFETCH_MS: ms(0, 10_000, 1_500),
  /** A slot whose run cannot be started is retried up to this many attempts, then failed. */
  HELMR_FIRE_MAX_ATTEMPTS: ms(1, 100, 5),
  /** Backoff of those retries: base × 2^(attempt − 1), capped. */
  HELMR_FIRE_RETRY_BASE_MS: ms(10, 3_600_000, 1_000),
  HELMR_FIRE_RETRY_MAX_MS: ms(10, 86_400_000, 60_000),
  /** Longest idle sleep between looks at the due set (new entries are seen this soon). */
  HELMR_DISPATCHER_POLL_MS: ms(5, 60_000, 100),
  /** Period of the Valkey-from-Postgres repair (also run at start). */
  HELMR_REPAIR_INTERVAL_MS: ms(100, 86_400_000, 30_000),
  /** Period of the Postgres sweep for due timed waits and expired runs. */
  HELMR_TIMER_POLL_MS: ms(50, 600_000, 1_000),
  /**
   * Period of the look for held scheduled runs to release (overlap bufferOne/cancelPrevious): a
   * held run starts at most this long after the run it waited for has ended.
   */
  HELMR_HELD_POLL_MS: ms(20, 60_000, 250),
  /** How many future slots a scheduled run's payload lists in `upcoming`. */
  HELMR_SCHEDULE_UPCOMING: configFields.scheduleUpcoming,
})
export type DispatcherConfig = z.infer<typeof DispatcherConfig>

/** The engine's tunables, in its own words; tests build them with `dispatcherSettings()`. */
export interface DispatcherSettings {
  dispatcherId: string
  leaseMs: number
  batchSize: number
  concurrency: number
  prefetchMs: number
  maxAttempts: number
  retryBaseMs: number
  retryMaxMs: number
  pollMs: number
  repairIntervalMs: number
  timerPollMs: number
  heldPollMs: number
  upcomingCount: number
}

export function settingsFromConfig(config: DispatcherConfig): DispatcherSettings {
  return {
    dispatcherId: config.HELMR_DISPATCHER_ID,
    leaseMs: config.HELMR_SCHEDULE_LEASE_MS,
    batchSize: config.HELMR_SCHEDULE_BATCH_SIZE,
    concurrency: config.HELMR_FIRE_CONCURRENCY,
    prefetchMs: config.HELMR_FIRE_PREFETCH_MS,
    maxAttempts: config.HELMR_FIRE_MAX_ATTEMPTS,
    retryBaseMs: config.HELMR_FIRE_RETRY_BASE_MS,
    retryMaxMs: config.HELMR_FIRE_RETRY_MAX_MS,
    pollMs: config.HELMR_DISPATCHER_POLL_MS,
    repairIntervalMs: config.HELMR_REPAIR_INTERVAL_MS,
    timerPollMs: config.HELMR_TIMER_POLL_MS,
    heldPollMs: config.HELMR_HELD_POLL_MS,
    upcomingCount: config.HELMR_SCHEDULE_UPCOMING,
  }
}

/** The defaults of every setting, with overrides: what a test or a benchmark starts from. */
export function dispatcherSettings(
  overrides: Partial<DispatcherSettings> = {},
): DispatcherSettings {
  const defaults = DispatcherConfig.parse({
    HELMR_DATABASE_URL: "postgres://localhost/x",
    HELMR_VALKEY_URL: "redis://localhost",
  })
  return { ...settingsFromConfig(defaults), ...overrides }
}
