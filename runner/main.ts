import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { createDb } from "@helmr/migrations/db"
import { migrate } from "@helmr/migrations/migrate"
import { shutdownSignal } from "@helmr/migrations/service"
import { createValkey } from "@helmr/migrations/valkey"
import pino from "pino"
import { startImageGc } from "./src/build/image-gc.ts"
import { composeRunner } from "./src/compose.ts"
import { RunnerConfig } from "./src/config.ts"
import { serveRunnerHealth } from "./src/health.ts"
import { startRunLoop } from "./src/run/run-loop.ts"

/** The runner's composition root: config once, clients here, everything else receives them. */
async function main(): Promise<void> {
  const config = parseConfig(RunnerConfig)
  const logger = pino({
    level: config.HELMR_LOG_LEVEL,
    base: { service: "runner", runner: config.HELMR_RUNNER_ID },
  })
  const { signal, stopped } = shutdownSignal()
  const sql = createDb(config.HELMR_DATABASE_URL, { applicationName: "helmr-runner" })
  if (config.HELMR_MIGRATE_ON_START === "true")
    await migrate(sql, { log: (line) => logger.info(line) })
  const valkey = createValkey(config.HELMR_VALKEY_URL, { name: "helmr-runner" })
  const runner = await composeRunner(config, { sql, valkey, logger })
  const loop = startRunLoop(
    runner.deps,
    {
      concurrency: config.HELMR_RUNNER_CONCURRENCY,
      pickup: config.HELMR_RUNNER_PICKUP,
      pollMs: config.HELMR_RUNNER_POLL_MS,
      recheckMs: config.HELMR_RUNNER_RECHECK_MS,
      sweepMs: config.HELMR_RUNNER_SWEEP_MS,
      drainMs: config.HELMR_RUNNER_DRAIN_MS,
      buildPollMs: config.HELMR_BUILD_POLL_MS,
    },
    signal,
  )

  if (runner.imageGc && config.HELMR_IMAGE_GC_INTERVAL_MS > 0)
    startImageGc(runner.imageGc, config.HELMR_IMAGE_GC_INTERVAL_MS, signal)

  const health = serveRunnerHealth({
    port: config.HELMR_RUNNER_PORT,
    sql,
    valkey,
    runner,
    loop: () => loop,
  })
  logger.info({ url: health.url.toString(), driver: runner.deps.driver.kind }, "runner started")

  logger.info({ signal: await stopped }, "draining")
  await loop.stopped
  await health.stop()
  runner.close()
  await sql.end({ timeout: 5 })
  valkey.disconnect()
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`helmr-runner: ${error.message}\n`)
    process.exit(2)
  }
  process.stderr.write(
    `helmr-runner: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
