import { type DeploymentBuild, DeploymentBuildLog } from "../contract/deployments.ts"
import { callApi } from "./api.ts"
import type { CliConfig } from "./config.ts"
import { CliError } from "./errors.ts"
import type { Output } from "./output.ts"

/**
 * Follows a deployment's deploy-time build (`GET /deployments/{id}/build`, polled) and prints its
 * log as progress until it is `ready` or `failed`. A runner builds it after upload; with no runner
 * up the build stays `pending`, which is said once, and the wait ends at `timeoutMs`.
 */

const POLL_MS = 500
const SAY_PENDING_AFTER_MS = 10_000

export interface FollowOptions {
  timeoutMs: number
  /** Print the log lines (false: only wait). */
  print: boolean
  pollMs?: number
}

export async function followBuild(
  config: CliConfig,
  deploymentId: string,
  out: Output,
  options: FollowOptions,
): Promise<DeploymentBuild> {
  const started = Date.now()
  let after = "0"
  let saidPending = false
  for (;;) {
    const { body } = await callApi(
      config,
      { method: "GET", path: `/deployments/${deploymentId}/build?after=${after}` },
      DeploymentBuildLog,
    )
    if (options.print) {
      for (const e of body.events) out.progress(`build: ${e.message}`)
    }
    after = body.next
    const { build } = body
    if (build.status === "ready" || build.status === "failed") {
      // The last lines may have landed after this page was read.
      if (body.events.length > 0) continue
      return build
    }
    const waited = Date.now() - started
    if (build.status === "pending" && !saidPending && waited > SAY_PENDING_AFTER_MS) {
      saidPending = true
      out.progress(`build of ${deploymentId} is pending: waiting for a runner to pick it up`)
    }
    if (waited > options.timeoutMs) {
      throw new CliError(
        `the build of ${deploymentId} is still ${build.status} after ${Math.round(waited / 1000)} s; follow it with 'helmr promote ${deploymentId}' later (is a runner running?)`,
      )
    }
    await Bun.sleep(options.pollMs ?? POLL_MS)
  }
}

/** The CLI error for a failed build: the message names the step; the output follows. */
export function buildFailedError(deploymentId: string, build: DeploymentBuild): CliError {
  const error = build.error ?? { message: "the build failed" }
  const where = `${error.step ? ` at step ${error.step}` : ""}${error.image ? ` (image ${error.image})` : ""}`
  const output = (error.output ?? "").split("\n").filter((l) => l.trim() !== "")
  return new CliError(
    `the build of ${deploymentId} failed${where}: ${error.message}`,
    1,
    output.length > 0 ? ["output:", ...output.slice(-40)] : [],
  )
}
