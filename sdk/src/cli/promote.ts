import { DeploymentList, PromoteDeploymentResponse } from "../contract/deployments.ts"
import { callApi } from "./api.ts"
import { buildFailedError, followBuild } from "./build-follow.ts"
import type { CliConfig } from "./config.ts"
import { checkEnvironment } from "./environment.ts"
import { usageError } from "./errors.ts"
import type { Output } from "./output.ts"

/**
 * `helmr promote <deployment> --env <env>`: waits for the deployment's build (printing its log),
 * refuses a failed one with the failing step and its output, then promotes.
 */
export async function promote(
  config: CliConfig,
  options: {
    deployment: string
    env: string
    json: boolean
    allowMissingSecrets: boolean
    buildTimeoutMs: number
  },
  out: Output,
): Promise<void> {
  if (!/^dep_[0-9a-z]+$/.test(options.deployment)) {
    throw usageError(
      `'${options.deployment}' is not a deployment id (dep_…)`,
      "Run 'helmr deployments --env <env>' to list them.",
    )
  }
  await checkEnvironment(config, options.env)
  const build = await followBuild(config, options.deployment, out, {
    timeoutMs: options.buildTimeoutMs,
    print: true,
  })
  if (build.status === "failed") throw buildFailedError(options.deployment, build)
  const { body } = await callApi(
    config,
    {
      method: "POST",
      path: `/deployments/${options.deployment}/promote`,
      body: { allowMissingSecrets: options.allowMissingSecrets },
    },
    PromoteDeploymentResponse,
  )
  if (options.json) out.result(JSON.stringify(body, null, 2))
  else for (const line of describePromotion(body, options.env)) out.result(line)
}

/** Human lines for a promotion: what became current, and what happened to the schedules. */
export function describePromotion(result: PromoteDeploymentResponse, env: string): string[] {
  const { deployment, schedules } = result
  const head = result.changed
    ? `promoted ${deployment.id} (version ${deployment.version}) in ${env}`
    : `${deployment.id} (version ${deployment.version}) is already current in ${env}; nothing changed`
  const lines = [head]
  const count =
    schedules.created.length +
    schedules.updated.length +
    schedules.removed.length +
    schedules.unchanged.length
  if (count > 0) {
    lines.push(
      `schedules: ${schedules.created.length} created, ${schedules.updated.length} updated, ${schedules.removed.length} removed, ${schedules.unchanged.length} unchanged`,
    )
    for (const [verb, list] of [
      ["created", schedules.created],
      ["updated", schedules.updated],
      ["removed", schedules.removed],
    ] as const) {
      for (const s of list) {
        const next = s.nextFireAt ? `, next ${s.nextFireAt}` : ""
        lines.push(`  ${verb} ${s.taskId}: ${s.cron} ${s.timezone}${next}`)
      }
    }
  }
  return lines
}

/** `helmr deployments --env <env>`. */
export async function listDeployments(
  config: CliConfig,
  options: { env: string; limit: number; json: boolean },
  out: Output,
): Promise<void> {
  await checkEnvironment(config, options.env)
  const { body } = await callApi(
    config,
    { method: "GET", path: `/deployments?limit=${options.limit}` },
    DeploymentList,
  )
  if (options.json) {
    out.result(JSON.stringify(body, null, 2))
    return
  }
  if (body.data.length === 0) {
    out.result(`no deployments in ${options.env} yet: run 'helmr deploy --env ${options.env}'`)
    return
  }
  out.result(["VERSION", "ID", "CURRENT", "BUILD", "CREATED", "TASKS"].join("\t"))
  for (const d of body.data) {
    out.result(
      [
        String(d.version),
        d.id,
        d.current ? "yes" : "",
        d.build.status,
        d.createdAt,
        d.tasks.map((t) => t.id).join(","),
      ].join("\t"),
    )
  }
}
