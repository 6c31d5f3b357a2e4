import { configFields } from "@helmr/migrations/config"
import { z } from "zod"

export const DispatcherConfig = z.object({
  HELMR_DATABASE_URL: configFields.databaseUrl,
  HELMR_VALKEY_URL: configFields.valkeyUrl,
  HELMR_KEY_PREFIX: configFields.keyPrefix.default("helmr"),
  HELMR_LOG_LEVEL: configFields.logLevel.default("info"),
  /** Port of the health and metrics endpoint. */
  HELMR_DISPATCHER_PORT: configFields.port.default(3001),
  HELMR_MIGRATE_ON_START: z.enum(["true", "false"]).default("true"),
})
export type DispatcherConfig = z.infer<typeof DispatcherConfig>
