import { Manifest } from "@helmr/sdk/contract"
import type { RunnerDeps } from "../run/deps.ts"
import { ImageBuildError } from "./build-image.ts"
import { buildTargets } from "./build-targets.ts"
import {
  appendBuildEvents,
  type BuildClaim,
  type BuildEvent,
  type BuildFailure,
  claimDeploymentBuild,
  extendBuildLease,
  finishDeploymentBuild,
  MAX_BUILD_ATTEMPTS,
} from "./deployment-build-claim.ts"

/**
 * Deploy-time builds: after upload, one runner builds each deployment's sandbox images (the image
 * graph and the code layer, through the sandbox driver's `prepare`, the same path a run takes)
 * and records the log and the outcome. Image tags are content hashes and the builder
 * single-flights builds per tag, so the first run of a built deployment only finds its image.
 */

export type BuildDeps = Pick<RunnerDeps, "sql" | "driver" | "logger" | "runnerId" | "leaseMs">

/** Builds deployments one at a time until `signal` aborts; resolves when the current one ended. */
export function startDeploymentBuilds(
  deps: BuildDeps,
  options: { pollMs: number },
  signal: AbortSignal,
): Promise<void> {
  return (async () => {
    while (!signal.aborted) {
      let claim: BuildClaim | null = null
      try {
        claim = await claimDeploymentBuild(deps.sql, deps.runnerId, deps.leaseMs)
        if (claim) await buildDeployment(deps, claim)
      } catch (error) {
        deps.logger.warn({ err: error }, "deployment builds: polling failed")
      }
      if (!claim) await sleep(options.pollMs, signal)
    }
  })()
}

/** Builds one claimed deployment and records its outcome (unless another runner took it over). */
export async function buildDeployment(deps: BuildDeps, claim: BuildClaim): Promise<void> {
  const { deployment } = claim
  const log = deps.logger.child({ deploymentId: deployment.id, attempt: claim.attempt })
  const events = createBuildLog(deps, claim)
  let lost = false
  const beat = setInterval(
    () =>
      void extendBuildLease(deps.sql, deps.runnerId, claim, deps.leaseMs)
        .then((held) => {
          if (!held) lost = true
        })
        .catch((error: unknown) => log.warn({ err: error }, "build lease renewal failed")),
    Math.max(50, Math.floor(deps.leaseMs / 3)),
  )
  const started = performance.now()
  let failure: BuildFailure | null = null
  try {
    if (claim.attempt > MAX_BUILD_ATTEMPTS) {
      failure = {
        message: `the build was claimed ${MAX_BUILD_ATTEMPTS} times and each runner stopped before it finished`,
      }
    } else {
      if (claim.attempt > 1)
        events.add({ level: "info", message: `build taken over by runner ${deps.runnerId}` })
      failure = await buildTargetsOf(deps, claim, events)
    }
  } catch (error) {
    failure = describeFailure(error)
  } finally {
    clearInterval(beat)
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  events.add(
    failure
      ? { level: "error", message: `build failed: ${failure.message}` }
      : { level: "info", message: `build ready in ${seconds}s` },
  )
  await events.close()
  if (lost) {
    log.warn("build lease lost to another runner; its outcome is not recorded")
    return
  }
  const recorded = await finishDeploymentBuild(deps.sql, deps.runnerId, claim, failure)
  log.info({ status: failure ? "failed" : "ready", recorded, seconds }, "deployment build ended")
}

async function buildTargetsOf(
  deps: BuildDeps,
  claim: BuildClaim,
  events: ReturnType<typeof createBuildLog>,
): Promise<BuildFailure | null> {
  const { deployment } = claim
  const parsed = Manifest.safeParse(deployment.manifest)
  if (!parsed.success) return { message: `invalid manifest: ${parsed.error.message}` }
  const targets = buildTargets(parsed.data)
  if ("error" in targets) return { message: targets.error }
  const projectId = deployment.projectId
  for (const target of targets) {
    events.add({
      level: "info",
      message: `sandbox ${target.sandbox}: image ${target.graph.name}`,
      data: { sandbox: target.sandbox, image: target.graph.name },
    })
    await deps.driver.prepare(
      {
        projectId,
        graph: target.graph,
        workspace: target.workspace,
        bundle: { digest: deployment.bundleDigest, entry: parsed.data.entry },
        async readBlob(digest) {
          const [blob] = await deps.sql<{ content: Uint8Array }[]>`
            select content from blobs where project_id = ${projectId} and digest = ${digest}`
          if (!blob) throw new Error(`file ${digest} was never uploaded`)
          return blob.content
        },
      },
      (e) => events.add({ level: e.level, message: e.message, data: e.data }),
    )
  }
  return null
}

function describeFailure(error: unknown): BuildFailure {
  if (error instanceof ImageBuildError) {
    const { image, step, output } = error.details
    // "building image x failed at <step>: <cause>": the step is its own field, keep the cause.
    const prefix = step ? `building image ${image} failed at ${step}: ` : ""
    return {
      message:
        prefix && error.message.startsWith(prefix)
          ? error.message.slice(prefix.length)
          : error.message,
      ...(image !== undefined ? { image } : {}),
      ...(step !== undefined ? { step } : {}),
      ...(output !== undefined ? { output } : {}),
    }
  }
  return { message: error instanceof Error ? error.message : String(error) }
}

/** Buffers build lines and writes them in batches, in order. */
function createBuildLog(deps: BuildDeps, claim: BuildClaim) {
  let pending: BuildEvent[] = []
  let writing: Promise<void> = Promise.resolve()
  let timer: ReturnType<typeof setTimeout> | null = null
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer)
    timer = null
    const batch = pending
    pending = []
    if (batch.length > 0) {
      writing = writing
        .then(() => appendBuildEvents(deps.sql, claim, batch))
        .catch((error: unknown) => deps.logger.warn({ err: error }, "build log write failed"))
    }
    return writing
  }
  return {
    add(event: BuildEvent) {
      pending.push(event)
      if (pending.length >= 200) void flush()
      else timer ??= setTimeout(() => void flush(), 100)
    },
    close: flush,
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done)
  })
}
