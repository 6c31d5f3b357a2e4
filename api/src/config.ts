import { configFields, keyringFields } from "@helmr/migrations/config"
import { z } from "zod"
import { CorsOrigins } from "./http/cors.ts"

export const ApiConfig = z.object({
  HELMR_DATABASE_URL: configFields.databaseUrl,
  HELMR_VALKEY_URL: configFields.valkeyUrl,
  ...keyringFields,
  HELMR_API_PORT: configFields.port.default(3000),
  HELMR_API_HOST: z.string().min(1).default("0.0.0.0"),
  HELMR_KEY_PREFIX: configFields.keyPrefix.default("helmr"),
  HELMR_LOG_LEVEL: configFields.logLevel.default("info"),
  HELMR_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  HELMR_DEPLOY_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Requests per window per API key; 0 turns the limit off. */
  HELMR_RATE_LIMIT: z.coerce.number().int().min(0).default(6000),
  HELMR_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  HELMR_MIGRATE_ON_START: z.enum(["true", "false"]).default("true"),
  HELMR_SCHEDULE_UPCOMING: configFields.scheduleUpcoming,
  /** Origins allowed to call `/api/v1` from a browser (comma-separated); unset: CORS off. */
  HELMR_CORS_ORIGINS: CorsOrigins,
  /** `off` removes `GET /metrics` (it needs no key; expose it only where Prometheus reaches it). */
  HELMR_METRICS: z.enum(["on", "off"]).default("on"),
  /** Public URL of the API, for token completion URLs (else they are paths). */
  HELMR_PUBLIC_API_URL: z.url().or(z.literal("")).default(""),
})
export type ApiConfig = z.infer<typeof ApiConfig>
