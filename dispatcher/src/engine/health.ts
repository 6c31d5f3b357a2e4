import type { Sql } from "@helmr/migrations/db"
import type { Valkey } from "@helmr/migrations/valkey"
import type { DispatcherMetrics } from "./metrics.ts"

/** How long a dependency may take to answer before health calls it down. */
const CHECK_TIMEOUT_MS = 2_000

/** Resolves "ok" or "down" within the timeout: a dead database must not hang the probe. */
function probe(check: () => Promise<unknown>): Promise<"ok" | "down"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("down"), CHECK_TIMEOUT_MS)
    check().then(
      () => resolve("ok"),
      () => resolve("down"),
    )
    // Whichever settles first wins; the other resolve is a no-op.
    timer.unref?.()
  })
}

/** `GET /healthz` (Postgres and Valkey reachable) and `GET /metrics` (Prometheus text). */
export function serveHealth(options: {
  port: number
  sql: Sql
  valkey: Valkey
  metrics: DispatcherMetrics
}) {
  return Bun.serve({
    port: options.port,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (req.method !== "GET") return new Response("method not allowed", { status: 405 })
      if (path === "/metrics") {
        return new Response(options.metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        })
      }
      if (path !== "/healthz") return new Response("not found", { status: 404 })
      const [postgres, valkey] = await Promise.all([
        probe(() => options.sql`select 1`),
        probe(() => options.valkey.ping()),
      ])
      const ok = postgres === "ok" && valkey === "ok"
      return Response.json(
        { status: ok ? "ok" : "degraded", postgres, valkey },
        { status: ok ? 200 : 503 },
      )
    },
  })
}
