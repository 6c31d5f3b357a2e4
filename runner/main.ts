import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { createDb } from "@helmr/migrations/db"
import { migrate } from "@helmr/migrations/migrate"
import { checkDependencies, shutdownSignal } from "@helmr/migrations/service"
import { createValkey } from "@helmr/migrations/valkey"
import pino from "pino"
import { RunnerConfig } from "./src/config.ts"

/** The runner's composition root: config once, clients here, everything else receives them. */
async function main(): Promise<void> {
  const config = parseConfig(RunnerConfig)
  const logger = pino({ level: config.HELMR_LOG_LEVEL, base: { service: "runner" } })
  const { signal, stopped } = shutdownSignal()
  const sql = createDb(config.HELMR_DATABASE_URL, { applicationName: "helmr-runner" })
  if (config.HELMR_MIGRATE_ON_START === "true")
    await migrate(sql, { log: (line) => logger.info(line) })
  const valkey = createValkey(config.HELMR_VALKEY_URL, { name: "helmr-runner" })

  const health = Bun.serve({
    port: config.HELMR_RUNNER_PORT,
    async fetch(req) {
      if (new URL(req.url).pathname !== "/healthz")
        return new Response("not found", { status: 404 })
      const { ok, ...parts } = await checkDependencies(sql, valkey)
      return Response.json({ status: ok ? "ok" : "degraded", ...parts }, { status: ok ? 200 : 503 })
    },
  })
  logger.info({ url: health.url.toString(), aborted: signal.aborted }, "runner started")

  logger.info({ signal: await stopped }, "draining")
  await health.stop()
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
