import { ApiError } from "../errors.ts"
import { presentBuild } from "./present.ts"
import type { DeploymentView } from "./queries.ts"

/**
 * Whether a deployment may become current: its deploy-time build must be `ready` (a failed one is
 * refused with the failing step and its output; one still building is refused with its state:
 * the CLI waits and tries again), and every secret its tasks declare must be set in the
 * environment unless the caller allows missing ones. Throws the refusal as a 409.
 */
export function checkPromotable(
  deployment: DeploymentView,
  options: { allowMissingSecrets: boolean },
): void {
  const build = presentBuild(deployment)
  if (build.status === "failed") {
    const error = build.error ?? { message: "the build failed" }
    const where = `${error.step ? ` at step ${error.step}` : ""}${error.image ? ` (image ${error.image})` : ""}`
    const output = error.output?.trim() ? `\n${error.output.trim()}` : ""
    throw new ApiError(
      409,
      "build_failed",
      `deployment ${deployment.id} cannot be promoted: its build failed${where}: ${error.message}${output}`,
      { build },
    )
  }
  if (build.status !== "ready") {
    throw new ApiError(
      409,
      "build_not_ready",
      `deployment ${deployment.id} cannot be promoted yet: its build is ${build.status} (GET /api/v1/deployments/${deployment.id}/build follows it)`,
      { build },
    )
  }
  const missing = deployment.missingSecrets
  if (missing.length > 0 && !options.allowMissingSecrets) {
    throw new ApiError(
      409,
      "missing_secrets",
      `deployment ${deployment.id} declares secret${missing.length > 1 ? "s" : ""} not set in environment ${deployment.environmentSlug}: ${missing.join(", ")} (set them with 'helmr secrets set' or PUT /api/v1/secrets/{name}, or promote anyway with --allow-missing-secrets, allowMissingSecrets: true in the API)`,
      { missingSecrets: missing },
    )
  }
}
