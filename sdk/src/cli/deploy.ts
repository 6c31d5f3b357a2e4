import { Buffer } from "node:buffer"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type CreateDeploymentBody,
  Deployment,
  PromoteDeploymentResponse,
} from "../contract/deployments.ts"
import { Manifest } from "../contract/manifest.ts"
import { callApi } from "./api.ts"
import { buildFailedError, followBuild } from "./build-follow.ts"
import { BUNDLE_ENTRY, bundleProject } from "./bundle.ts"
import type { CliConfig } from "./config.ts"
import { checkEnvironment } from "./environment.ts"
import { CliError } from "./errors.ts"
import { extractDraft } from "./extract.ts"
import { resolveCopiedFiles, sha256Digest } from "./files.ts"
import type { Output } from "./output.ts"
import { findTaskProject } from "./project.ts"
import { describePromotion } from "./promote.ts"

export interface DeployOptions {
  env: string
  dir: string | undefined
  entry: string | undefined
  promote: boolean
  json: boolean
  /** Promote even if its tasks declare secrets the environment lacks. */
  allowMissingSecrets?: boolean
  /** How long to wait for the build (default 30 min). */
  buildTimeoutMs?: number
}

/** Default wait for a deploy-time build. */
export const BUILD_TIMEOUT_MS = 30 * 60_000

/** Builds the upload body of a task project: bundle, manifest, copied files. */
export async function buildDeployment(
  dir: string | undefined,
  entry: string | undefined,
  out: Output,
): Promise<CreateDeploymentBody> {
  const project = await findTaskProject(dir, entry)
  out.progress(`bundling ${project.entry}`)
  const bundle = await bundleProject(project)
  const workDir = await mkdtemp(join(tmpdir(), "helmr-deploy-"))
  try {
    const bundlePath = join(workDir, BUNDLE_ENTRY)
    await Bun.write(bundlePath, bundle)
    const draft = await extractDraft(bundlePath, workDir, project.dir)
    if (draft.tasks.length === 0) {
      throw new CliError(`${project.entry} exports no tasks: export each task(…) you declare`)
    }
    const { images, files } = await resolveCopiedFiles(project.dir, draft.images)
    const parsed = Manifest.safeParse({ version: 1, entry: BUNDLE_ENTRY, ...draft, images })
    if (!parsed.success) {
      throw new CliError(
        "the project declares a manifest Helmr cannot read",
        1,
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      )
    }
    out.progress(
      `${draft.tasks.length} task${draft.tasks.length === 1 ? "" : "s"}: ${draft.tasks
        .map((t) => (t.cron ? `${t.id} (cron ${t.cron.pattern} ${t.cron.timezone})` : t.id))
        .join(", ")}`,
    )
    return {
      manifest: parsed.data,
      bundle: { digest: sha256Digest(bundle), content: Buffer.from(bundle).toString("base64") },
      files: files.map((f) => ({
        path: f.path,
        digest: f.digest,
        content: Buffer.from(f.content).toString("base64"),
      })),
    }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}

export interface DeployResult {
  deployment: Deployment
  /** False when the same content was deployed before (the existing deployment came back). */
  changed: boolean
  promoted?: PromoteDeploymentResponse
}

/** `helmr deploy`: prints the deployment id (or the JSON answer) on stdout. */
export async function deploy(
  config: CliConfig,
  options: DeployOptions,
  out: Output,
): Promise<DeployResult> {
  await checkEnvironment(config, options.env)
  const body = await buildDeployment(options.dir, options.entry, out)
  const bytes =
    Buffer.byteLength(body.bundle.content, "base64") +
    body.files.reduce((n, f) => n + Buffer.byteLength(f.content, "base64"), 0)
  out.progress(
    `uploading ${formatBytes(bytes)} (bundle + ${body.files.length} file${body.files.length === 1 ? "" : "s"}) to ${options.env}`,
  )
  const { status, body: deployment } = await callApi(
    config,
    { method: "POST", path: "/deployments", body },
    Deployment,
  )
  out.progress(
    status === 201
      ? `created deployment ${deployment.id} (version ${deployment.version}) in ${options.env}`
      : `unchanged: deployment ${deployment.id} (version ${deployment.version}) already has this content`,
  )
  if (deployment.missingSecrets.length > 0) {
    const names = deployment.missingSecrets.join(", ")
    out.progress(
      `missing secrets in ${options.env}: ${names} (declared by its tasks; set them with 'helmr secrets set <name> --env ${options.env}'; promotion refuses them without --allow-missing-secrets)`,
    )
  }
  // A runner builds the deployment's images now; its log is printed as it goes (an unchanged
  // deployment built before is not printed again).
  const finished = deployment.build.status === "ready" || deployment.build.status === "failed"
  const build = await followBuild(config, deployment.id, out, {
    timeoutMs: options.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
    print: status === 201 || !finished,
  })
  const built = { ...deployment, build }
  if (build.status === "failed") {
    if (options.json) out.result(JSON.stringify(built, null, 2))
    else out.result(deployment.id)
    throw buildFailedError(deployment.id, build)
  }
  out.progress(`build of ${deployment.id} is ready`)
  let promoted: PromoteDeploymentResponse | undefined
  if (options.promote) {
    promoted = (
      await callApi(
        config,
        {
          method: "POST",
          path: `/deployments/${deployment.id}/promote`,
          body: { allowMissingSecrets: options.allowMissingSecrets === true },
        },
        PromoteDeploymentResponse,
      )
    ).body
    for (const line of describePromotion(promoted, options.env)) out.progress(line)
  }
  if (options.json) out.result(JSON.stringify(promoted ?? built, null, 2))
  else out.result(deployment.id)
  return { deployment: built, changed: status === 201, ...(promoted ? { promoted } : {}) }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
