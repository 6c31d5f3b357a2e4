import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { composeApi } from "./src/compose.ts"
import { ApiConfig } from "./src/config.ts"

/** The API's composition root on Bun: config once, clients in composeApi, then serve. */
async function main(): Promise<void> {
  const config = parseConfig(ApiConfig)
  const { app, logger, close } = await composeApi(config)
  const server = Bun.serve({
    port: config.HELMR_API_PORT,
    hostname: config.HELMR_API_HOST,
    // Event streams send a keep-alive comment every 8 s; allow a quiet connection a bit longer.
    idleTimeout: 30,
    // The app enforces its own per-route limits; Bun's must not cut in first.
    maxRequestBodySize:
      Math.max(config.HELMR_BODY_LIMIT_BYTES, config.HELMR_DEPLOY_BODY_LIMIT_BYTES) + 1024,
    fetch: app.fetch,
  })
  logger.info({ url: server.url.toString() }, "api listening")

  const shutdown = async (signal: string) => {
    logger.info({ signal }, "draining")
    await server.stop()
    await close()
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
