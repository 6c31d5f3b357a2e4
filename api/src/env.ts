import type { Sql } from "@helmr/migrations/db"
import type { Keyring } from "@helmr/migrations/secrets"
import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import type { ApiMetrics } from "./http/metrics.ts"

/** What the app is built from: clients are made in main.ts and passed in, never module-level. */
export interface ApiDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  keyring: Keyring
  logger: Logger
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes?: number
  /** Largest deployment upload (`POST /deployments`) accepted, in bytes. */
  deployBodyLimitBytes?: number
  /** Requests per window per API key; unset: no limit. */
  rateLimit?: { limit: number; windowSeconds: number }
  /** `upcoming` slots in a run-now payload (`HELMR_SCHEDULE_UPCOMING`, shared with the dispatcher). */
  scheduleUpcoming?: number
  /** Public URL of the API (token completion URLs); unset: paths. */
  publicApiUrl?: string
  /** Run event streams: Postgres fallback poll and keep-alive comment intervals (ms). */
  sse?: { pollMs?: number; heartbeatMs?: number }
  /** Origins allowed to call `/api/v1` from a browser; empty or unset: no CORS headers at all. */
  corsOrigins?: readonly string[]
  /** Serve `GET /metrics` (default true; `HELMR_METRICS=off` turns it off). */
  metricsEndpoint?: boolean
}

/** The environment an API key resolves to; every query is filtered by it. */
export interface Caller {
  keyId: string
  environmentId: string
  environmentSlug: string
  projectId: string
  /**
   * The environment's promoted deployment when the request began, read with the key itself so a
   * trigger needs no second lookup.
   */
  currentDeploymentId: string | null
}

export interface AppEnv {
  Variables: {
    deps: ApiDeps
    requestId: string
    caller: Caller
    logger: Logger
    metrics: ApiMetrics
  }
}
