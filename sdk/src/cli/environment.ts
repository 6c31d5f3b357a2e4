import { z } from "zod"
import { callApi } from "./api.ts"
import type { CliConfig } from "./config.ts"
import { CliError } from "./errors.ts"

export const WhoAmI = z.object({
  environment: z.object({ id: z.string(), slug: z.string() }),
  projectId: z.string(),
})
export type WhoAmI = z.infer<typeof WhoAmI>

/** The environment (and project) HELMR_API_KEY belongs to. */
export async function whoAmI(config: CliConfig): Promise<WhoAmI> {
  return (await callApi(config, { method: "GET", path: "/whoami" }, WhoAmI)).body
}

/**
 * Confirms `--env` names the environment HELMR_API_KEY belongs to, so a key for dev can never be
 * used by mistake in a command meant for prod.
 */
export async function checkEnvironment(config: CliConfig, env: string): Promise<WhoAmI> {
  const body = await whoAmI(config)
  if (body.environment.slug !== env) {
    throw new CliError(
      `--env ${env} does not match HELMR_API_KEY, which belongs to environment '${body.environment.slug}'`,
    )
  }
  return body
}
