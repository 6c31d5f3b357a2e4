import type { Sql, TransactionSql } from "@helmr/migrations/db"
import type { DeploymentRow } from "@helmr/migrations/rows"

/** A deployment row with what its responses need beside it. */
export interface DeploymentView extends DeploymentRow {
  current: boolean
  environmentSlug: string
}

const DEPLOYMENT_ID = /^dep_[0-9a-hjkmnp-tv-z]{26}$/

/** The deployment if it belongs to the environment; null otherwise (another's is not found). */
export async function findDeployment(
  sql: Sql | TransactionSql,
  environmentId: string,
  id: string,
): Promise<DeploymentView | null> {
  if (!DEPLOYMENT_ID.test(id)) return null
  const [row] = await sql<DeploymentView[]>`
    select d.*, coalesce(e.current_deployment_id = d.id, false) as current,
      e.slug as environment_slug
    from deployments d join environments e on e.id = d.environment_id
    where d.id = ${id} and d.environment_id = ${environmentId}`
  return row ?? null
}

/** Newest first, `limit` at a time, before version `beforeVersion` when given. */
export async function listDeployments(
  sql: Sql | TransactionSql,
  environmentId: string,
  options: { limit: number; beforeVersion?: number | undefined },
): Promise<DeploymentView[]> {
  return sql<DeploymentView[]>`
    select d.*, coalesce(e.current_deployment_id = d.id, false) as current,
      e.slug as environment_slug
    from deployments d join environments e on e.id = d.environment_id
    where d.environment_id = ${environmentId}
      ${options.beforeVersion === undefined ? sql`` : sql`and d.version < ${options.beforeVersion}`}
    order by d.version desc
    limit ${options.limit}`
}

export async function listDeploymentFiles(
  sql: Sql | TransactionSql,
  deploymentId: string,
): Promise<{ path: string; digest: string }[]> {
  return sql<{ path: string; digest: string }[]>`
    select path, digest from deployment_files where deployment_id = ${deploymentId} order by path`
}
