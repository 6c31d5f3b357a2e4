import type { Sql } from "@helmr/migrations/db"
import { Manifest } from "@helmr/sdk/contract"
import type Docker from "dockerode"
import type { Logger } from "pino"
import { sandboxImageTags } from "./image-hash.ts"

/**
 * Keeps the disk bounded: removes the images this runner built for deployments that are neither
 * current in an environment, nor among the newest `keepDeployments` of one, nor the deployment of
 * a run that has not ended; then trims BuildKit's cache to a size. Images are shared by content
 * (an unchanged graph has one tag for every deployment), so what is kept is computed from the
 * retained deployments' tags, not from labels.
 */

export interface ImageGcOptions {
  docker: Docker
  sql: Sql
  /** Repository of the runner's images (`HELMR_IMAGE_REPO`). */
  repo: string
  /** Labels that pick this runner's images (`helmr.owner`, plus `HELMR_RUNNER_LABELS`). */
  labels: Record<string, string>
  keepDeployments: number
  buildCacheBytes: number
  runtimeDigest: () => Promise<string>
  logger: Logger
}

export interface ImageGcResult {
  removed: string[]
  kept: number
  /** Removal refused by Docker (an image a container still uses), left for the next round. */
  busy: string[]
  cacheReclaimedBytes: number
}

interface RetainedDeployment {
  projectId: string
  bundleDigest: string
  manifest: unknown
}

/** The deployments whose images stay. */
export function retainedDeployments(sql: Sql, keep: number): Promise<RetainedDeployment[]> {
  return sql<RetainedDeployment[]>`
    select d.project_id, d.bundle_digest, d.manifest from deployments d
    where d.id in (select current_deployment_id from environments)
       or d.id in (select id from (
            select id, row_number() over (partition by environment_id order by version desc) as n
            from deployments) newest where n <= ${keep})
       or d.id in (select deployment_id from runs
            where status in ('queued', 'starting', 'running', 'waiting'))`
}

/** Every image tag a retained deployment's tasks run on. */
export function wantedTags(
  repo: string,
  deployments: RetainedDeployment[],
  runtimeDigest: string,
): Set<string> {
  const wanted = new Set<string>()
  for (const deployment of deployments) {
    const parsed = Manifest.safeParse(deployment.manifest)
    if (!parsed.success) continue
    const { sandboxes, images, tasks, entry } = parsed.data
    for (const task of tasks) {
      const sandbox = sandboxes.find((s) => s.name === task.sandbox)
      const graph = sandbox && images.find((i) => i.name === sandbox.image)
      if (!sandbox || !graph) continue
      const tags = sandboxImageTags(
        repo,
        {
          projectId: deployment.projectId,
          graph,
          workspace: sandbox.workspace,
          bundle: { digest: deployment.bundleDigest, entry },
        },
        runtimeDigest,
      )
      if (tags) wanted.add(tags.graphTag).add(tags.tag)
    }
  }
  return wanted
}

export async function collectImages(options: ImageGcOptions): Promise<ImageGcResult> {
  const { docker, repo } = options
  const deployments = await retainedDeployments(options.sql, options.keepDeployments)
  const wanted = wantedTags(repo, deployments, await options.runtimeDigest())
  const label = Object.entries(options.labels).map(([k, v]) => `${k}=${v}`)
  const images = await docker.listImages({ filters: { label } })
  // Code layers first: a graph image is their parent, and goes once nothing is built on it.
  const order = (labels: Record<string, string> | undefined) =>
    labels?.["helmr.kind"] === "sandbox-image" ? 0 : 1
  images.sort((a, b) => order(a.Labels) - order(b.Labels))
  const result: ImageGcResult = { removed: [], kept: 0, busy: [], cacheReclaimedBytes: 0 }
  for (const image of images) {
    const tags = (image.RepoTags ?? []).filter((t) => t.startsWith(`${repo}:`))
    if (tags.length === 0 || tags.some((t) => wanted.has(t))) {
      result.kept++
      continue
    }
    for (const tag of tags) {
      try {
        await docker.getImage(tag).remove()
        result.removed.push(tag)
      } catch (error) {
        // 409: a container (a sandbox still running, or stopped and not yet removed) uses it.
        if ((error as { statusCode?: number }).statusCode === 409) result.busy.push(tag)
        else if ((error as { statusCode?: number }).statusCode !== 404) throw error
      }
    }
  }
  result.cacheReclaimedBytes = await pruneBuildCache(docker, options.buildCacheBytes)
  return result
}

/**
 * Trims BuildKit's cache to `keepBytes` (Engine API `POST /build/prune?keep-storage=`); returns
 * the bytes reclaimed. dockerode's pruneBuilder sends no query, so the call is dialled here.
 */
function pruneBuildCache(docker: Docker, keepBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: "/build/prune?",
        method: "POST",
        options: { "keep-storage": keepBytes },
        statusCodes: { 200: true, 500: "server error" },
      },
      (error, data) => {
        if (error) reject(error)
        else resolve((data as { SpaceReclaimed?: number } | null)?.SpaceReclaimed ?? 0)
      },
    )
  })
}

/** Collects every `intervalMs` until `signal` aborts; a failed round is logged and retried. */
export function startImageGc(options: ImageGcOptions, intervalMs: number, signal: AbortSignal) {
  const round = async () => {
    try {
      const result = await collectImages(options)
      if (result.removed.length > 0 || result.cacheReclaimedBytes > 0)
        options.logger.info(
          { removed: result.removed, kept: result.kept, reclaimed: result.cacheReclaimedBytes },
          "images collected",
        )
    } catch (error) {
      options.logger.warn({ err: error }, "image collection failed; retrying next round")
    }
  }
  const timer = setInterval(() => void round(), intervalMs)
  signal.addEventListener("abort", () => clearInterval(timer), { once: true })
  return { round }
}
