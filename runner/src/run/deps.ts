import type { Sql } from "@helmr/migrations/db"
import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import type { Keyring } from "@helmr/migrations/secrets"
import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import type { SandboxDriver } from "../sandbox/driver.ts"
import type { CancelWatch } from "./cancel-watch.ts"
import type { RetryPolicy } from "./outcome.ts"
import type { ParkedAttempt } from "./parking.ts"
import type { PickupSignal } from "./pickup-signal.ts"
import type { RunnerMetrics } from "./runner-metrics.ts"
import type { WarmPool } from "./warm-pool.ts"

/** What the run lifecycle needs; built once in main.ts (or a test) and passed down. */
export interface RunnerDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  keyring: Keyring
  driver: SandboxDriver
  logger: Logger
  cancelWatch: CancelWatch
  runnerId: string
  /** Runner lease on a run (Valkey score and `runs.lease_expires_at`); heartbeats every third. */
  leaseMs: number
  /** Time between aborting `ctx.signal` and killing the sandbox. */
  graceMs: number
  /** From the start message until the runtime's `started`: past it the attempt is lost. */
  startTimeoutMs: number
  retry: RetryPolicy
  /** A run parked behind a full concurrency gate is looked at again after this, woken or not. */
  gateRecheckMs: number
  /** The run loop's idle wait; nudged when this runner wakes a parked run. */
  pickup: PickupSignal
  /** Resources of sandboxes that declare none. */
  defaults: { cpu: number; memoryBytes: number }
  /** Keep a session's workspace after its last run finished (default: removed). */
  keepWorkspaces: boolean
  /** Public URL of the API (token completion URLs); "" gives paths. */
  publicApiUrl: string
  /** Attempts of this runner whose run waits (their sandbox alive, no slot held), by run id. */
  parked: Map<string, ParkedAttempt>
  /** Tasks of current deployments (triggers from tasks), as the API reads them. */
  catalog: TaskCatalog
  /** How long a finished session's workspace is kept before the sweep removes it (0: at once). */
  workspaceRetentionMs: number
  metrics: RunnerMetrics
  /** Pre-started sandboxes (null: none kept, e.g. the local driver or a cap of 0). */
  warm: WarmPool | null
}
