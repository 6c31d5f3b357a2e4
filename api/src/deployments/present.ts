import type { DeploymentBuildEventRow } from "@helmr/migrations/rows"
import {
  type Deployment,
  type DeploymentBuild,
  DeploymentBuildEvent,
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
    build: presentBuild(row),
    missingSecrets: row.missingSecrets,
  }
}

export function presentBuild(row: DeploymentView): DeploymentBuild {
  const error = row.buildError as DeploymentBuild["error"]
  return {
    status: row.buildStatus,
    attempts: row.buildAttempts,
    startedAt: row.buildStartedAt?.toISOString() ?? null,
    finishedAt: row.buildFinishedAt?.toISOString() ?? null,
    error: row.buildStatus === "failed" ? (error ?? { message: "the build failed" }) : null,
  }
}

export function presentBuildEvent(row: DeploymentBuildEventRow): DeploymentBuildEvent {
  return DeploymentBuildEvent.parse({
    id: String(row.id),
    attempt: row.attempt,
    level: row.level,
    message: row.message,
    data: row.data ?? null,
    createdAt: row.createdAt.toISOString(),
  })
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
