import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { createDb } from "@helmr/migrations/db"
import { migrate } from "@helmr/migrations/migrate"
import { shutdownSignal } from "@helmr/migrations/service"
import { createValkey, valkeyKeys } from "@helmr/migrations/valkey"
import pino from "pino"
import { DispatcherConfig, settingsFromConfig } from "./src/config.ts"
import { createDispatcher } from "./src/engine/dispatcher.ts"
import { serveHealth } from "./src/engine/health.ts"

/** The dispatcher's composition root: config once, clients here, everything else receives them. */
async function main(): Promise<void> {
  const config = parseConfig(DispatcherConfig)
  const settings = settingsFromConfig(config)
  const logger = pino({
    level: config.HELMR_LOG_LEVEL,
    base: { service: "dispatcher", dispatcher: settings.dispatcherId },
  })
  const { signal, stopped } = shutdownSignal()
  const sql = createDb(config.HELMR_DATABASE_URL, {
    max: config.HELMR_DISPATCHER_DB_POOL,
    applicationName: `helmr-dispatcher:${settings.dispatcherId}`,
  })
  if (config.HELMR_MIGRATE_ON_START === "true")
    await migrate(sql, { log: (line) => logger.info(line) })
  const valkey = createValkey(config.HELMR_VALKEY_URL, { name: "helmr-dispatcher" })
  // ioredis reconnects by itself; say so once in a while instead of once per attempt.
  let lastValkeyError = 0
  valkey.on("error", (error: Error) => {
    if (Date.now() - lastValkeyError < 10_000) return
    lastValkeyError = Date.now()
    logger.warn({ err: error.message }, "valkey unavailable")
  })
  const dispatcher = createDispatcher({
    sql,
    valkey,
    keys: valkeyKeys(config.HELMR_KEY_PREFIX),
    settings,
    logger,
  })
  const health = serveHealth({
    port: config.HELMR_DISPATCHER_PORT,
    sql,
    valkey,
    metrics: dispatcher.metrics,
  })
  const running = dispatcher.start(signal)
  logger.info({ url: health.url.toString() }, "dispatcher started")

  logger.info({ signal: await stopped }, "draining")
  // A drain has a deadline: a fire stuck on a dead connection must not keep the process alive.
  // Nothing is lost by giving up: Postgres is the truth and unfinished leases expire.
  const drained = await Promise.race([
    running.then(() => true),
    Bun.sleep(config.HELMR_DISPATCHER_DRAIN_MS).then(() => false),
  ])
  if (!drained) logger.warn({ ms: config.HELMR_DISPATCHER_DRAIN_MS }, "drain deadline passed")
  await health.stop(true)
  await sql.end({ timeout: 5 })
  valkey.disconnect()
  logger.info("stopped")
  process.exit(0)
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`helmr-dispatcher: ${error.message}\n`)
    process.exit(2)
  }
  process.stderr.write(
    `helmr-dispatcher: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
