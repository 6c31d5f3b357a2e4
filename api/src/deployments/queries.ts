import type { Sql, TransactionSql } from "@helmr/migrations/db"
import type { DeploymentBuildEventRow, DeploymentRow } from "@helmr/migrations/rows"

/** A deployment row with what its responses need beside it. */
export interface DeploymentView extends DeploymentRow {
  current: boolean
  environmentSlug: string
  /** Secrets its tasks declare that the environment does not have, sorted. */
  missingSecrets: string[]
}

/** The columns of a DeploymentView beside `d.*` (deployments d join environments e). */
function viewColumns(sql: Sql | TransactionSql) {
  return sql`coalesce(e.current_deployment_id = d.id, false) as current,
    e.slug as environment_slug,
    array(
      select distinct declared.value ->> 'name'
      from jsonb_array_elements(d.manifest -> 'tasks') task,
        jsonb_array_elements(task.value -> 'secrets') declared
      where not exists (
        select 1 from secrets s
        where s.environment_id = d.environment_id and s.name = declared.value ->> 'name')
      order by 1
    ) as missing_secrets`
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
    select d.*, ${viewColumns(sql)}
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
    select d.*, ${viewColumns(sql)}
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

/** A deployment's build log after event `after`, oldest first, at most `limit` lines. */
export function listBuildEvents(
  sql: Sql | TransactionSql,
  deploymentId: string,
  options: { after: string; limit: number },
): Promise<DeploymentBuildEventRow[]> {
  return sql<DeploymentBuildEventRow[]>`
    select * from deployment_build_events
    where deployment_id = ${deploymentId} and id > ${options.after}
    order by id limit ${options.limit}`
}
