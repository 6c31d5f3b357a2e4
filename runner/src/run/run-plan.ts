import type { Sql } from "@helmr/migrations/db"
import type { RunRow, SecretRow } from "@helmr/migrations/rows"
import { type Keyring, openSecret } from "@helmr/migrations/secrets"
import { type ImageGraph, Manifest, type SandboxSpec, type TaskManifest } from "@helmr/sdk/contract"

/**
 * Everything a run needs from its deployment: the task, its sandbox and image graph, the bundle,
 * and the environment's secrets the task declares. Problems here are not worth retrying: the
 * deployment or the environment must change first.
 */

export class RunSetupError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message)
  }
}

export interface RunPlan {
  projectId: string
  task: TaskManifest
  sandbox: SandboxSpec
  graph: ImageGraph
  bundle: { digest: string; entry: string }
  readBlob(digest: string): Promise<Uint8Array>
}

export async function loadRunPlan(sql: Sql, run: RunRow): Promise<RunPlan> {
  const [deployment] = await sql<{ projectId: string; bundleDigest: string; manifest: unknown }[]>`
    select project_id, bundle_digest, manifest from deployments where id = ${run.deploymentId}`
  if (!deployment) {
    throw new RunSetupError("DeploymentNotFoundError", `deployment ${run.deploymentId} is gone`)
  }
  const parsed = Manifest.safeParse(deployment.manifest)
  if (!parsed.success) {
    throw new RunSetupError(
      "ManifestError",
      `deployment ${run.deploymentId} has an invalid manifest: ${parsed.error.message}`,
    )
  }
  const manifest = parsed.data
  const task = manifest.tasks.find((t) => t.id === run.taskId)
  if (!task) {
    throw new RunSetupError(
      "TaskNotFoundError",
      `task ${run.taskId} is not in deployment ${run.deploymentId}`,
    )
  }
  const sandbox = manifest.sandboxes.find((s) => s.name === task.sandbox)
  if (!sandbox) {
    throw new RunSetupError(
      "ManifestError",
      `sandbox ${task.sandbox} of task ${task.id} is missing`,
    )
  }
  const graph = manifest.images.find((i) => i.name === sandbox.image)
  if (!graph) {
    throw new RunSetupError(
      "ManifestError",
      `image ${sandbox.image} of sandbox ${sandbox.name} is missing`,
    )
  }
  const projectId = deployment.projectId
  return {
    projectId,
    task,
    sandbox,
    graph,
    bundle: { digest: deployment.bundleDigest, entry: manifest.entry },
    readBlob: blobReader(sql, projectId),
  }
}

/** Reads the project's uploaded files by digest (bundle, copied sources). */
export function blobReader(sql: Sql, projectId: string): (digest: string) => Promise<Uint8Array> {
  return async (digest) => {
    const [blob] = await sql<{ content: Uint8Array }[]>`
      select content from blobs where project_id = ${projectId} and digest = ${digest}`
    if (!blob) throw new RunSetupError("BlobNotFoundError", `file ${digest} was never uploaded`)
    return blob.content
  }
}

/**
 * The task's declared secrets, opened, by env name. A missing one fails with every missing name,
 * so one fix covers them all.
 */
export async function resolveSecrets(
  sql: Sql,
  keyring: Keyring,
  run: Pick<RunRow, "environmentId">,
  task: TaskManifest,
): Promise<Record<string, string>> {
  if (task.secrets.length === 0) return {}
  const names = task.secrets.map((s) => s.name)
  const rows = await sql<SecretRow[]>`
    select * from secrets where environment_id = ${run.environmentId} and name in ${sql(names)}`
  const byName = new Map(rows.map((r) => [r.name, r]))
  const missing = names.filter((n) => !byName.has(n))
  if (missing.length > 0) {
    const list = missing.join(", ")
    throw new RunSetupError(
      "MissingSecretError",
      `task ${task.id} declares secret${missing.length > 1 ? "s" : ""} ${list}, not set in this environment (set it with PUT /api/v1/secrets/${missing[0]})`,
      { missing },
    )
  }
  const env: Record<string, string> = {}
  for (const declared of task.secrets) {
    const row = byName.get(declared.name)
    if (!row) continue
    try {
      env[declared.env] = openSecret(keyring, run.environmentId, declared.name, row)
    } catch (error) {
      throw new RunSetupError(
        "SecretDecryptError",
        error instanceof Error ? error.message : `secret ${declared.name} cannot be opened`,
      )
    }
  }
  return env
}
