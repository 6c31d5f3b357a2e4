import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { createDb } from "@helmr/migrations/db"
import { migrate } from "@helmr/migrations/migrate"
import { createKeyring } from "@helmr/migrations/secrets"
import { createValkey, valkeyKeys } from "@helmr/migrations/valkey"
import pino from "pino"
import { createApp } from "./src/app.ts"
import { ApiConfig } from "./src/config.ts"

/** The API's composition root: config once, clients here, everything else receives them. */
async function main(): Promise<void> {
  const config = parseConfig(ApiConfig)
  const logger = pino({ level: config.HELMR_LOG_LEVEL, base: { service: "api" } })
  const sql = createDb(config.HELMR_DATABASE_URL, { applicationName: "helmr-api" })
  if (config.HELMR_MIGRATE_ON_START === "true") {
    await migrate(sql, { log: (line) => logger.info(line) })
  }
  const valkey = createValkey(config.HELMR_VALKEY_URL, { name: "helmr-api" })
  const app = createApp({
    sql,
    valkey,
    keys: valkeyKeys(config.HELMR_KEY_PREFIX),
    keyring: createKeyring(config.HELMR_ENCRYPTION_KEY),
    logger,
    bodyLimitBytes: config.HELMR_BODY_LIMIT_BYTES,
    deployBodyLimitBytes: config.HELMR_DEPLOY_BODY_LIMIT_BYTES,
  })
  const server = Bun.serve({
    port: config.HELMR_API_PORT,
    hostname: config.HELMR_API_HOST,
    // The app enforces its own per-route limits; Bun's must not cut in first.
    maxRequestBodySize:
      Math.max(config.HELMR_BODY_LIMIT_BYTES, config.HELMR_DEPLOY_BODY_LIMIT_BYTES) + 1024,
    fetch: app.fetch,
  })
  logger.info({ url: server.url.toString() }, "api listening")

  const shutdown = async (signal: string) => {
    logger.info({ signal }, "draining")
    await server.stop()
    await sql.end({ timeout: 5 })
    valkey.disconnect()
    process.exit(0)
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"))
  process.once("SIGINT", () => void shutdown("SIGINT"))
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`helmr-api: ${error.message}\n`)
    process.exit(2)
  }
  process.stderr.write(
    `helmr-api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
