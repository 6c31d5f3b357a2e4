import { configFields } from "@helmr/migrations/config"
import { z } from "zod"

export const RunnerConfig = z.object({
  HELMR_DATABASE_URL: configFields.databaseUrl,
  HELMR_VALKEY_URL: configFields.valkeyUrl,
  HELMR_KEY_PREFIX: configFields.keyPrefix.default("helmr"),
  HELMR_LOG_LEVEL: configFields.logLevel.default("info"),
  /** Port of the health and metrics endpoint. */
  HELMR_RUNNER_PORT: configFields.port.default(3002),
  HELMR_ENCRYPTION_KEY: configFields.encryptionKey,
  HELMR_DOCKER_SOCKET: z.string().min(1).default("/var/run/docker.sock"),
  HELMR_MIGRATE_ON_START: z.enum(["true", "false"]).default("true"),
})
export type RunnerConfig = z.infer<typeof RunnerConfig>
