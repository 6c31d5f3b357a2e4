import { z } from "zod"
import { callApi } from "./api.ts"
import type { CliConfig } from "./config.ts"
import { CliError } from "./errors.ts"

const WhoAmI = z.object({
  environment: z.object({ id: z.string(), slug: z.string() }),
  projectId: z.string(),
})

/**
 * Confirms `--env` names the environment HELMR_API_KEY belongs to, so a key for dev can never be
 * used by mistake in a command meant for prod.
 */
export async function checkEnvironment(config: CliConfig, env: string): Promise<void> {
  const { body } = await callApi(config, { method: "GET", path: "/whoami" }, WhoAmI)
  if (body.environment.slug !== env) {
    throw new CliError(
      `--env ${env} does not match HELMR_API_KEY, which belongs to environment '${body.environment.slug}'`,
    )
  }
}
