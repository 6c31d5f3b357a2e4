import {
  type Deployment,
  type DeploymentDetail,
  Manifest,
  type ManifestFile,
} from "@helmr/sdk/contract"
import type { DeploymentView } from "./queries.ts"

/** A stored deployment as the API answers it. */
export function presentDeployment(row: DeploymentView): Deployment {
  const manifest = Manifest.parse(row.manifest)
  return {
    id: row.id,
    version: row.version,
    environment: { id: row.environmentId, slug: row.environmentSlug },
    contentDigest: row.contentDigest,
    bundleDigest: row.bundleDigest,
    current: row.current,
    createdAt: row.createdAt.toISOString(),
    promotedAt: row.promotedAt?.toISOString() ?? null,
    tasks: manifest.tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      ...(t.cron ? { cron: t.cron } : {}),
    })),
  }
}

export function presentDeploymentDetail(
  row: DeploymentView,
  files: readonly ManifestFile[],
): DeploymentDetail {
  return {
    ...presentDeployment(row),
    manifest: Manifest.parse(row.manifest),
    files: files.map((f) => ({ path: f.path, digest: f.digest })),
  }
}
