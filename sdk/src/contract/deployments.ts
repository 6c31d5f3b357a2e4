import { z } from "zod"
import { DeploymentId, TaskId } from "./ids.ts"
import { CronSpec, Digest, Manifest, ManifestFile } from "./manifest.ts"

/**
 * Deployments on the wire. An upload is one JSON body: the manifest, the bundle and every file
 * the image graphs copy, base64-encoded, each with its sha256 digest (checked by the API).
 */

/**
 * A path inside the task project: relative, `/`-separated, no `.`/`..` segments.
 *
 * @example
 * ```ts
 * ProjectPath.parse("prompts/review.md") // ok; "../x" and "/etc" fail
 * ```
 */
export const ProjectPath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (path) =>
      !path.startsWith("/") &&
      !path.includes("\\") &&
      path.split("/").every((part) => part !== "" && part !== "." && part !== ".."),
    "must be a relative path inside the task project ('/'-separated, no '.' or '..' segments)",
  )

/**
 * A file of the upload, base64 with its digest.
 *
 * @example
 * ```ts
 * const file: UploadedFile = { path: "package.json", digest: "sha256:…", content: btoa(text) }
 * ```
 */
export const UploadedFile = z.object({
  path: ProjectPath,
  digest: Digest,
  /** The file's bytes, base64. */
  content: z.base64(),
})
export type UploadedFile = z.infer<typeof UploadedFile>

/**
 * `POST /api/v1/deployments`.
 *
 * @example
 * ```ts
 * const body = CreateDeploymentBody.parse(await request.json())
 * ```
 */
export const CreateDeploymentBody = z.object({
  manifest: Manifest,
  /** The bundled task project (one ES module, `manifest.entry`). */
  bundle: z.object({ digest: Digest, content: z.base64() }),
  /** Every file `source.*` refers to, once each. */
  files: z.array(UploadedFile).max(10_000).default([]),
})
export type CreateDeploymentBody = z.infer<typeof CreateDeploymentBody>

/**
 * A task of a deployment, as lists show it.
 *
 * @example
 * ```ts
 * const scheduled = deployment.tasks.filter((t: DeploymentTaskSummary) => t.kind === "scheduled")
 * ```
 */
export const DeploymentTaskSummary = z.object({
  id: TaskId,
  kind: z.enum(["task", "scheduled"]),
  cron: CronSpec.optional(),
})
export type DeploymentTaskSummary = z.infer<typeof DeploymentTaskSummary>

/**
 * Where a deployment's deploy-time build stands. After upload a runner builds the deployment's
 * images (`pending` → `building` → `ready` | `failed`); promotion needs `ready`. `error` names the
 * failing image and step and carries the step's output (its last lines).
 *
 * @example
 * ```ts
 * if (deployment.build.status === "failed") console.error(deployment.build.error?.step)
 * ```
 */
export const DeploymentBuild = z.object({
  status: z.enum(["pending", "building", "ready", "failed"]),
  /** Claims of the build so far (a runner that dies mid-build makes another claim it). */
  attempts: z.number().int().nonnegative(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  error: z
    .object({
      message: z.string(),
      image: z.string().optional(),
      step: z.string().optional(),
      output: z.string().optional(),
    })
    .nullable(),
})
export type DeploymentBuild = z.infer<typeof DeploymentBuild>

/**
 * A deployment as lists show it. 201 on create when new, 200 when the same content exists.
 *
 * @example
 * ```ts
 * const deployment = Deployment.parse(await (await fetch(`${url}/api/v1/deployments/${id}`, { headers })).json())
 * ```
 */
export const Deployment = z.object({
  id: DeploymentId,
  /** 1, 2, 3… per environment. */
  version: z.number().int().positive(),
  environment: z.object({ id: z.string(), slug: z.string() }),
  /** Digest of bundle + manifest + files: the same content is the same deployment. */
  contentDigest: Digest,
  bundleDigest: Digest,
  /** True when this is the environment's promoted deployment. */
  current: z.boolean(),
  createdAt: z.iso.datetime(),
  /** Last time it was made current; null if never. */
  promotedAt: z.iso.datetime().nullable(),
  tasks: z.array(DeploymentTaskSummary),
  build: DeploymentBuild,
  /** Secrets its tasks declare that its environment does not have (promotion refuses them). */
  missingSecrets: z.array(z.string()),
})
export type Deployment = z.infer<typeof Deployment>

/**
 * One line of a deployment's build log. `id` orders the lines; pass the last one as `after`.
 *
 * @example
 * ```ts
 * for (const e of log.events) console.log(e.level === "error" ? `! ${e.message}` : e.message)
 * ```
 */
export const DeploymentBuildEvent = z.object({
  id: z.string(),
  attempt: z.number().int(),
  level: z.enum(["info", "error"]),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.iso.datetime(),
})
export type DeploymentBuildEvent = z.infer<typeof DeploymentBuildEvent>

/**
 * `GET /api/v1/deployments/{id}/build?after=<event id>`: the build's state and its log lines after
 * `after` (at most 500; `next` is the cursor for the following call).
 *
 * @example
 * ```ts
 * let after = "0"; const page = DeploymentBuildLog.parse(json); after = page.next
 * ```
 */
export const DeploymentBuildLog = z.object({
  build: DeploymentBuild,
  events: z.array(DeploymentBuildEvent),
  next: z.string(),
})
export type DeploymentBuildLog = z.infer<typeof DeploymentBuildLog>

/**
 * `POST /api/v1/deployments/{id}/promote` body (optional). Promotion refuses a deployment whose
 * tasks declare secrets the environment lacks, unless `allowMissingSecrets` is true.
 *
 * @example
 * ```ts
 * await fetch(`${url}/api/v1/deployments/${id}/promote`, { method: "POST", headers, body: JSON.stringify({ allowMissingSecrets: true }) })
 * ```
 */
export const PromoteDeploymentBody = z.object({
  allowMissingSecrets: z.boolean().default(false),
})
export type PromoteDeploymentBody = z.infer<typeof PromoteDeploymentBody>

/**
 * `GET /api/v1/deployments/{id}`: with its manifest and files.
 *
 * @example
 * ```ts
 * const { manifest, files } = DeploymentDetail.parse(json)
 * ```
 */
export const DeploymentDetail = Deployment.extend({
  manifest: Manifest,
  files: z.array(ManifestFile),
})
export type DeploymentDetail = z.infer<typeof DeploymentDetail>

/**
 * `GET /api/v1/deployments?limit&cursor`: newest first.
 *
 * @example
 * ```ts
 * const page = DeploymentList.parse(json); if (page.nextCursor) next = `?cursor=${page.nextCursor}`
 * ```
 */
export const DeploymentList = z.object({
  data: z.array(Deployment),
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: z.string().nullable(),
})
export type DeploymentList = z.infer<typeof DeploymentList>

/**
 * A declarative schedule instance touched (or not) by a promotion.
 *
 * @example
 * ```ts
 * for (const s of result.schedules.created) console.log(s.taskId, s.nextFireAt)
 * ```
 */
export const PromotedSchedule = z.object({
  taskId: TaskId,
  scheduleId: z.string(),
  instanceId: z.string(),
  cron: z.string(),
  timezone: z.string(),
  nextFireAt: z.iso.datetime().nullable(),
})
export type PromotedSchedule = z.infer<typeof PromotedSchedule>

/**
 * `POST /api/v1/deployments/{id}/promote`.
 *
 * @example
 * ```ts
 * const result = PromoteDeploymentResponse.parse(json); if (!result.changed) console.log("already current")
 * ```
 */
export const PromoteDeploymentResponse = z.object({
  deployment: Deployment,
  /** False when the deployment was already current and nothing changed. */
  changed: z.boolean(),
  schedules: z.object({
    created: z.array(PromotedSchedule),
    updated: z.array(PromotedSchedule),
    removed: z.array(PromotedSchedule),
    unchanged: z.array(PromotedSchedule),
  }),
})
export type PromoteDeploymentResponse = z.infer<typeof PromoteDeploymentResponse>
