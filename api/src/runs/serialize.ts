import type { RunEventRow, RunRow } from "@helmr/migrations/rows"
import type { Run, RunEvent, RunSummary } from "@helmr/sdk/contract"

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)

/** A run row as the list endpoint shows it. */
export function toRunSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    taskId: row.taskId,
    status: row.status,
    deploymentId: row.deploymentId,
    sessionId: row.sessionId,
    scheduleId: row.scheduleId,
    replayOf: row.replayOf,
    tags: row.tags,
    idempotencyKey: row.idempotencyKey,
    metadata: row.metadata,
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    queue: row.queue ?? `task:${row.taskId}`,
    concurrencyKey: row.concurrencyKey,
    concurrencyLimit: row.concurrencyLimit,
    cancelRequestedAt: iso(row.cancelRequestedAt ?? null),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    delayUntil: row.availableAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  }
}

/** A run row as retrieve shows it: with payload, output and error. */
export function toRun(row: RunRow): Run {
  return { ...toRunSummary(row), payload: row.payload, output: row.output, error: row.error }
}

export function toRunEvent(row: RunEventRow): RunEvent {
  return {
    id: String(row.id),
    type: row.type,
    level: row.level,
    message: row.message,
    data: row.data,
    createdAt: row.createdAt.toISOString(),
  }
}
