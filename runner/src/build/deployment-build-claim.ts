import type { Sql } from "@helmr/migrations/db"
import type { DeploymentRow } from "@helmr/migrations/rows"

/**
 * The deploy-time build's ownership, in Postgres: one runner claims a deployment's build (row
 * lock, `skip locked`), holds it with a lease it renews, and finishes it. A build whose lease
 * lapsed (its runner died) is claimed again by any runner. Every write after the claim is
 * conditional on (runner, attempt): a runner that lost its build cannot overwrite the new owner's.
 */

/** Claims after which a build whose runners keep dying is failed instead of claimed again. */
export const MAX_BUILD_ATTEMPTS = 3

export interface BuildClaim {
  deployment: DeploymentRow
  attempt: number
}

export async function claimDeploymentBuild(
  sql: Sql,
  runnerId: string,
  leaseMs: number,
): Promise<BuildClaim | null> {
  const [row] = await sql<DeploymentRow[]>`
    with next as (
      select id from deployments
      where build_status = 'pending'
        or (build_status = 'building' and build_lease_expires_at < now())
      order by created_at
      limit 1
      for update skip locked
    )
    update deployments d set build_status = 'building', build_runner_id = ${runnerId},
      build_lease_expires_at = now() + ${leaseMs} * interval '1 millisecond',
      build_attempts = d.build_attempts + 1, build_started_at = now(), build_error = null
    from next where d.id = next.id
    returning d.*`
  return row ? { deployment: row, attempt: row.buildAttempts } : null
}

/** Renews the lease; false when the build is no longer this runner's. */
export async function extendBuildLease(
  sql: Sql,
  runnerId: string,
  claim: BuildClaim,
  leaseMs: number,
): Promise<boolean> {
  const rows = await sql`
    update deployments set build_lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
    where id = ${claim.deployment.id} and build_runner_id = ${runnerId}
      and build_attempts = ${claim.attempt} and build_status = 'building'
    returning id`
  return rows.length > 0
}

export interface BuildFailure {
  message: string
  image?: string
  step?: string
  output?: string
}

/** Records the outcome; false when the build was no longer this runner's (nothing written). */
export async function finishDeploymentBuild(
  sql: Sql,
  runnerId: string,
  claim: BuildClaim,
  failure: BuildFailure | null,
): Promise<boolean> {
  const rows = await sql`
    update deployments set build_status = ${failure ? "failed" : "ready"},
      build_error = ${failure ? sql.json(failure as never) : null},
      build_finished_at = now(), build_lease_expires_at = null
    where id = ${claim.deployment.id} and build_runner_id = ${runnerId}
      and build_attempts = ${claim.attempt} and build_status = 'building'
    returning id`
  return rows.length > 0
}

export interface BuildEvent {
  level: "info" | "error"
  message: string
  data?: Record<string, unknown> | undefined
}

export async function appendBuildEvents(
  sql: Sql,
  claim: BuildClaim,
  events: readonly BuildEvent[],
): Promise<void> {
  if (events.length === 0) return
  const rows = events.map((e) => ({
    level: e.level,
    message: e.message.replaceAll("\u0000", ""),
    data: e.data === undefined ? null : e.data,
  }))
  await sql`
    insert into deployment_build_events (deployment_id, attempt, level, message, data)
    select ${claim.deployment.id}, ${claim.attempt}, e.level, e.message, e.data
    from rows from (
      jsonb_to_recordset(${sql.json(rows as never)}) as (level text, message text, data jsonb)
    ) with ordinality as e(level, message, data, n)
    order by e.n`
}
