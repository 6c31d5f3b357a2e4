/**
 * The API on Deno: same app, same config, served by `Deno.serve`. Run from `api/` with
 *   deno run --allow-net --allow-env --allow-read --allow-sys --node-modules-dir=manual --conditions=source deno-main.ts
 * after `bun install` (Deno resolves the workspace packages and dependencies from node_modules).
 */
import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { composeApi } from "./src/compose.ts"
import { ApiConfig } from "./src/config.ts"

interface DenoServer {
  finished: Promise<void>
  shutdown(): Promise<void>
}
interface DenoRuntime {
  serve(
    options: {
      port: number
      hostname: string
      onListen?: (addr: { hostname: string; port: number }) => void
    },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void
  exit(code: number): never
}
// Declared here rather than through Deno's types, so the Bun type-check of the repo stays whole.
declare const Deno: DenoRuntime

async function main(): Promise<void> {
  const config = parseConfig(ApiConfig)
  const { app, logger, close } = await composeApi(config)
  const server = Deno.serve(
    {
      port: config.HELMR_API_PORT,
      hostname: config.HELMR_API_HOST,
      onListen: ({ hostname, port }) =>
        logger.info({ url: `http://${hostname}:${port}/`, runtime: "deno" }, "api listening"),
    },
    app.fetch,
  )
  const shutdown = async (signal: string) => {
    logger.info({ signal }, "draining")
    await server.shutdown()
    await close()
    Deno.exit(0)
  }
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"))
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"))
  await server.finished
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`helmr-api: ${error.message}`)
    Deno.exit(2)
  }
  console.error(
    `helmr-api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  Deno.exit(1)
})
