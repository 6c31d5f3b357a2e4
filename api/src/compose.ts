import { createDb } from "@helmr/migrations/db"
import { checkKeyring, keyringFromConfig } from "@helmr/migrations/keyring"
import { migrate } from "@helmr/migrations/migrate"
import { createValkey, valkeyKeys } from "@helmr/migrations/valkey"
import type { Hono } from "hono"
import pino, { type Logger } from "pino"
import { createApp } from "./app.ts"
import type { ApiConfig } from "./config.ts"
import type { AppEnv } from "./env.ts"

export interface ComposedApi {
  app: Hono<AppEnv>
  logger: Logger
  /** Closes Postgres and Valkey (after the server stopped taking requests). */
  close(): Promise<void>
}

/**
 * Builds the API from its parsed config: clients, migrations, the app. Shared by the Bun entry
 * (`main.ts`) and the Deno entry (`deno-main.ts`), which differ only in how they serve.
 */
export async function composeApi(config: ApiConfig): Promise<ComposedApi> {
  const logger = pino({ level: config.HELMR_LOG_LEVEL, base: { service: "api" } })
  const sql = createDb(config.HELMR_DATABASE_URL, { applicationName: "helmr-api" })
  if (config.HELMR_MIGRATE_ON_START === "true") {
    await migrate(sql, { log: (line) => logger.info(line) })
  }
  const keyring = keyringFromConfig(config)
  await checkKeyring(sql, keyring)
  const valkey = createValkey(config.HELMR_VALKEY_URL, { name: "helmr-api" })
  const app = createApp({
    sql,
    valkey,
    keys: valkeyKeys(config.HELMR_KEY_PREFIX),
    keyring,
    logger,
    bodyLimitBytes: config.HELMR_BODY_LIMIT_BYTES,
    scheduleUpcoming: config.HELMR_SCHEDULE_UPCOMING,
    corsOrigins: config.HELMR_CORS_ORIGINS,
    metricsEndpoint: config.HELMR_METRICS === "on",
    publicApiUrl: config.HELMR_PUBLIC_API_URL,
    ...(config.HELMR_RATE_LIMIT > 0
      ? {
          rateLimit: {
            limit: config.HELMR_RATE_LIMIT,
            windowSeconds: config.HELMR_RATE_LIMIT_WINDOW_SECONDS,
          },
        }
      : {}),
  })
  return {
    app,
    logger,
    async close() {
      await sql.end({ timeout: 5 })
      valkey.disconnect()
    },
  }
}
