import type { Sql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import type { DeploymentRow } from "@helmr/migrations/rows"
import type { Caller } from "../env.ts"
import type { VerifiedUpload } from "./verify-upload.ts"

/**
 * Stores a verified upload: blobs content-addressed per project (shared by every environment),
 * then the deployment and its file list. The same content in the same environment returns the
 * existing deployment (`created: false`), and retries its build if that failed. Deploys to one environment are serialised by a lock on
 * its row, which also makes versions 1, 2, 3… without gaps.
 */
export async function storeDeployment(
  sql: Sql,
  caller: Caller,
  upload: VerifiedUpload,
): Promise<{ deployment: DeploymentRow; created: boolean }> {
  return sql.begin(async (tx) => {
    await tx`select 1 from environments where id = ${caller.environmentId} for update`
    const [existing] = await tx<DeploymentRow[]>`
      select * from deployments
      where environment_id = ${caller.environmentId} and content_digest = ${upload.contentDigest}`
    if (existing?.buildStatus === "failed") {
      // The same content again retries a failed build (a registry or network hiccup): the
      // deployment goes back to `pending` with a fresh log.
      await tx`delete from deployment_build_events where deployment_id = ${existing.id}`
      const [retried] = await tx<DeploymentRow[]>`
        update deployments set build_status = 'pending', build_error = null, build_attempts = 0,
          build_runner_id = null, build_lease_expires_at = null, build_started_at = null,
          build_finished_at = null
        where id = ${existing.id}
        returning *`
      return { deployment: retried as DeploymentRow, created: false }
    }
    if (existing) return { deployment: existing, created: false }

    for (const blob of [upload.bundle, ...upload.files]) {
      await tx`
        insert into blobs (project_id, digest, size, content)
        values (${caller.projectId}, ${blob.digest}, ${blob.content.byteLength}, ${blob.content})
        on conflict (project_id, digest) do nothing`
    }
    const [{ version } = { version: 1 }] = await tx<{ version: number }[]>`
      select coalesce(max(version), 0) + 1 as version
      from deployments where environment_id = ${caller.environmentId}`
    const [deployment] = await tx<DeploymentRow[]>`
      insert into deployments
        (id, project_id, environment_id, version, content_digest, bundle_digest, manifest)
      values (${newId("dep")}, ${caller.projectId}, ${caller.environmentId}, ${version},
        ${upload.contentDigest}, ${upload.bundle.digest}, ${tx.json(upload.manifest as never)})
      returning *`
    const row = deployment as DeploymentRow
    if (upload.files.length > 0) {
      await tx`
        insert into deployment_files ${tx(
          upload.files.map((f) => ({
            deploymentId: row.id,
            projectId: caller.projectId,
            path: f.path,
            digest: f.digest,
          })),
        )}`
    }
    return { deployment: row, created: true }
  })
}
