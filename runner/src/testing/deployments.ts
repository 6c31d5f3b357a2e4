import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import type { Sql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { insertRun, type NewRun } from "@helmr/migrations/queries/runs"
import type { RunRow, RunStatus } from "@helmr/migrations/rows"
import { enqueueRun, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import { Manifest } from "@helmr/sdk/contract"
import type Docker from "dockerode"
import { workspaceVolumeName } from "../sandbox/policy.ts"

/** Test and benchmark helpers: deployments written straight to the database, runs triggered. */

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`
}

/** Bundles a task project the way a deploy does (Bun's bundler, one file). */
export async function bundleProject(dir: string, entry = "index.ts"): Promise<Uint8Array> {
  const result = await Bun.build({ entrypoints: [join(dir, entry)], target: "bun" })
  const [output] = result.outputs
  if (!result.success || !output) throw new Error(`bundle failed: ${result.logs.join("\n")}`)
  return new Uint8Array(await output.arrayBuffer())
}

async function putBlob(sql: Sql, projectId: string, content: Uint8Array): Promise<string> {
  const digest = digestOf(content)
  await sql`insert into blobs (project_id, digest, size, content)
    values (${projectId}, ${digest}, ${content.length}, ${content})
    on conflict do nothing`
  return digest
}

/**
 * Inserts a deployment (blobs, row, files) and returns its id. It is written as built (`ready`),
 * like a deployment older than deploy-time builds: its first run builds what is missing. Pass
 * `build: "pending"` to have the runner's build loop build it.
 */
export async function insertDeployment(
  sql: Sql,
  input: {
    projectId: string
    environmentId: string
    bundle: Uint8Array
    manifest: unknown
    files?: Record<string, Uint8Array>
    build?: "pending" | "ready"
    /** Make it the environment's current deployment (as a promotion does, schedules aside). */
    current?: boolean
  },
): Promise<string> {
  const manifest = Manifest.parse(input.manifest)
  const bundleDigest = await putBlob(sql, input.projectId, input.bundle)
  const files: [string, string][] = []
  for (const [path, content] of Object.entries(input.files ?? {})) {
    files.push([path, await putBlob(sql, input.projectId, content)])
  }
  const contentDigest = digestOf(
    new TextEncoder().encode(JSON.stringify([bundleDigest, manifest, files])),
  )
  const [existing] = await sql<{ id: string }[]>`
    select id from deployments
    where environment_id = ${input.environmentId} and content_digest = ${contentDigest}`
  const id = existing?.id ?? (await insertNew())
  if (input.current)
    await sql`update environments set current_deployment_id = ${id} where id = ${input.environmentId}`
  return id

  async function insertNew(): Promise<string> {
    const id = newId("dep")
    const [{ version } = { version: 1 }] = await sql<{ version: number }[]>`
    select coalesce(max(version), 0) + 1 as version from deployments
    where environment_id = ${input.environmentId}`
    await sql`insert into deployments
      (id, project_id, environment_id, version, content_digest, bundle_digest, manifest, build_status)
      values (${id}, ${input.projectId}, ${input.environmentId}, ${version}, ${contentDigest},
        ${bundleDigest}, ${sql.json(manifest as never)}, ${input.build ?? "ready"})`
    for (const [path, digest] of files) {
      await sql`insert into deployment_files (deployment_id, project_id, path, digest)
      values (${id}, ${input.projectId}, ${path}, ${digest})`
    }
    return id
  }
}

/** Creates a queued run and puts it in the queue, as the API does. */
export async function triggerRun(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  input: NewRun,
): Promise<RunRow> {
  const { run } = await insertRun(sql, input)
  await enqueueRun(valkey, keys, run.id, run.availableAt)
  return run
}

/** Polls until the run is in one of `statuses`. */
export async function waitForRun(
  sql: Sql,
  runId: string,
  statuses: readonly RunStatus[],
  timeoutMs = 60_000,
): Promise<RunRow> {
  const deadline = Date.now() + timeoutMs
  let last: RunRow | undefined
  while (Date.now() < deadline) {
    ;[last] = await sql<RunRow[]>`select * from runs where id = ${runId}`
    if (last && statuses.includes(last.status)) return last
    await Bun.sleep(50)
  }
  throw new Error(
    `run ${runId} did not reach ${statuses.join("|")} in ${timeoutMs}ms (status ${last?.status}, error ${JSON.stringify(last?.error)})`,
  )
}

export interface EventRow {
  id: string
  type: string
  level: string | null
  message: string | null
  data: Record<string, unknown> | null
}

export async function runEvents(sql: Sql, runId: string): Promise<EventRow[]> {
  return sql<EventRow[]>`
    select id, type, level, message, data from run_events where run_id = ${runId} order by id`
}

/**
 * A file of a session's workspace volume, read from the host (Docker's data root), or null when
 * the volume or the file does not exist: what a task left outside its sandbox, for a test to count.
 */
export async function readWorkspaceFile(
  docker: Docker,
  sessionId: string,
  name: string,
): Promise<string | null> {
  try {
    const volume = await docker.getVolume(workspaceVolumeName(sessionId)).inspect()
    return await readFile(join(volume.Mountpoint, name), "utf8")
  } catch {
    return null
  }
}
