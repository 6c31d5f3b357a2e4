import type { Overlap, RunStatus, SlotReason } from "@helmr/sdk/contract"
import { RunStatus as RunStatusSchema } from "@helmr/sdk/contract"
/** Row types of the tables in ../sql, as postgres.js returns them (camelCased column names). */

export interface ProjectRow {
  id: string
  slug: string
  name: string
  createdAt: Date
}

export interface EnvironmentRow {
  id: string
  projectId: string
  slug: string
  currentDeploymentId: string | null
  createdAt: Date
}

export interface ApiKeyRow {
  id: string
  environmentId: string
  keyPrefix: string
  keyHash: Uint8Array
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

export interface BlobRow {
  projectId: string
  digest: string
  size: string
  content: Uint8Array
  createdAt: Date
}

export interface DeploymentRow {
  id: string
  projectId: string
  environmentId: string
  version: number
  contentDigest: string
  bundleDigest: string
  manifest: unknown
  createdAt: Date
  promotedAt: Date | null
  buildStatus: "pending" | "building" | "ready" | "failed"
  /** Why the build failed: `{ message, image?, step?, output? }`. */
  buildError: unknown
  buildRunnerId: string | null
  buildLeaseExpiresAt: Date | null
  buildAttempts: number
  buildStartedAt: Date | null
  buildFinishedAt: Date | null
}

export interface DeploymentBuildEventRow {
  id: string
  deploymentId: string
  attempt: number
  level: "info" | "error"
  message: string
  data: unknown
  createdAt: Date
}

export interface DeploymentFileRow {
  deploymentId: string
  projectId: string
  path: string
  digest: string
}

export interface SecretRow {
  environmentId: string
  name: string
  ciphertext: Uint8Array
  nonce: Uint8Array
  authTag: Uint8Array
  keyVersion: number
  createdAt: Date
  updatedAt: Date
}

export type ScheduleKind = "declarative" | "imperative"

export interface ScheduleRow {
  id: string
  projectId: string
  kind: ScheduleKind
  taskId: string
  cron: string
  timezone: string
  deduplicationKey: string
  externalId: string | null
  createdAt: Date
  updatedAt: Date
}

export interface ScheduleInstanceRow {
  id: string
  scheduleId: string
  environmentId: string
  deploymentId: string | null
  active: boolean
  runOptions: Record<string, unknown>
  nextFireAt: Date | null
  lastFiredAt: Date | null
  /** bigint column: postgres.js returns it as a string. */
  version: string
  /** Flow control (migration 0115, docs/schedules.md). */
  overlap: Overlap
  /** bigint column: a string. */
  catchupWindowMs: string | null
  pauseAfterFailures: number | null
  consecutiveFailures: number
  failureRunIds: string[]
  inactiveReason: "manual" | "failures" | null
  /** Slot counters (bigint columns: strings). */
  slotsFired: string
  slotsFailed: string
  slotsSkippedMissed: string
  slotsSkippedOverlap: string
  slotsSkippedCatchupWindow: string
  createdAt: Date
  updatedAt: Date
}

export type SlotOutcome = "fired" | "skipped" | "failed"

export interface ScheduleSlotRow {
  instanceId: string
  slotAt: Date
  outcome: SlotOutcome
  runId: string | null
  attempts: number
  error: string | null
  /** Why it was skipped, or how a fired slot ran (migration 0115). */
  reason: SlotReason | null
  /** A skipped range's last slot and how many slots it stands for (migration 0030). */
  lastSlotAt: Date | null
  slotCount: number | null
  recordedAt: Date
}

export interface SessionRow {
  id: string
  environmentId: string
  taskId: string
  createdAt: Date
}

/** The wire contract owns the run statuses; the table's check constraint lists the same. */
export { FINAL_RUN_STATUSES } from "@helmr/sdk/contract"
export type { RunStatus }
export const RUN_STATUSES = RunStatusSchema.options

export interface RunRow {
  id: string
  environmentId: string
  deploymentId: string
  taskId: string
  sessionId: string
  scheduleId: string | null
  scheduleInstanceId: string | null
  slotAt: Date | null
  status: RunStatus
  payload: unknown
  output: unknown
  error: unknown
  metadata: Record<string, unknown>
  tags: string[]
  idempotencyKey: string | null
  attempt: number
  maxAttempts: number
  maxDurationSeconds: number | null
  availableAt: Date
  expiresAt: Date | null
  replayOf: string | null
  /** A cancel was asked while the run had started; the runner ends it (migration 0020). */
  cancelRequestedAt: Date | null
  /** Held behind its schedule instance's active run (overlap bufferOne/cancelPrevious). */
  held: boolean
  runnerId: string | null
  leaseExpiresAt: Date | null
  /** Flow control, resolved when the run was created (migration 0111; null on older runs). */
  queue: string | null
  concurrencyKey: string | null
  concurrencyLimit: number | null
  /** Backoff between attempts (`RunRetryPolicy`); null: the runner's defaults. */
  retry: { factor?: number; minDelayMs?: number; maxDelayMs?: number } | null
  createdAt: Date
  updatedAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

export interface RunEventRow {
  /** bigint identity: a string. */
  id: string
  runId: string
  type: string
  level: string | null
  message: string | null
  data: unknown
  createdAt: Date
}

export interface WaitpointRow {
  id: string
  environmentId: string
  runId: string | null
  kind: "timer" | "token" | "run"
  status: "pending" | "completed" | "timed_out"
  resumeAt: Date | null
  timeoutAt: Date | null
  idempotencyKey: string | null
  data: unknown
  createdAt: Date
  completedAt: Date | null
  /** The child run a `run` waitpoint waits for (`runs.triggerAndWait`). */
  childRunId: string | null
  tags: string[]
}

export interface StreamChunkRow {
  sessionId: string
  stream: string
  seq: string
  data: string
  createdAt: Date
}
