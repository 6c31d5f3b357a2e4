import type { Sql } from "@helmr/migrations/db"
import type { TransitionPatch } from "@helmr/migrations/queries/runs"
import type { RunRow, RunStatus } from "@helmr/migrations/rows"
import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"

/**
 * `transitionRun` with an ownership guard: the compare-and-set also requires the runner, the
 * attempt, or an expired lease, so a runner that lost its lease (a slow heartbeat, a network
 * split) can never overwrite what the run's new owner did. Same columns and event as
 * `@helmr/migrations/queries/runs`.
 */

export interface RunGuard {
  runnerId?: string | null
  attempt?: number
  /** Only when the runner lease expired before this time. */
  leaseExpiredBefore?: Date
}

export async function transitionGuardedRun(
  sql: Sql,
  runId: string,
  from: readonly RunStatus[],
  to: RunStatus,
  guard: RunGuard,
  patch: TransitionPatch = {},
  eventData: Record<string, unknown> = {},
): Promise<RunRow | null> {
  return sql.begin(async (tx) => {
    const [before] = await tx<{ status: RunStatus }[]>`
      select status from runs
      where id = ${runId} and status in ${tx(from as RunStatus[])}
        and (${guard.runnerId === undefined} or runner_id is not distinct from ${guard.runnerId ?? null})
        and (${guard.attempt === undefined} or attempt = ${guard.attempt ?? 0})
        and (${guard.leaseExpiredBefore === undefined}
          or lease_expires_at is null
          or lease_expires_at < ${guard.leaseExpiredBefore ?? new Date(0)}::timestamptz)
      for update`
    if (!before) return null
    const finished = FINAL_RUN_STATUSES.includes(to)
    const [row] = await tx<RunRow[]>`
      update runs set
        status = ${to},
        output = case when ${"output" in patch} then ${patch.output === undefined ? null : tx.json(patch.output as never)}::jsonb else output end,
        error = case when ${"error" in patch} then ${patch.error === undefined ? null : tx.json(patch.error as never)}::jsonb else error end,
        runner_id = case when ${"runnerId" in patch} then ${patch.runnerId ?? null} else runner_id end,
        lease_expires_at = case when ${"leaseExpiresAt" in patch} then ${patch.leaseExpiresAt ?? null}::timestamptz else lease_expires_at end,
        attempt = coalesce(${patch.attempt ?? null}, attempt),
        available_at = coalesce(${patch.availableAt ?? null}::timestamptz, available_at),
        started_at = case when ${to === "running"} and started_at is null then now() else started_at end,
        finished_at = case when ${finished} then now() else finished_at end,
        updated_at = now()
      where id = ${runId}
      returning *`
    await tx`insert into run_events (run_id, type, data)
      values (${runId}, 'transition', ${tx.json({ from: before.status, to, ...eventData } as never)})`
    return row ?? null
  })
}
