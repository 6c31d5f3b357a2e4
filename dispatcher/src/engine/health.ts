import type { Sql } from "@helmr/migrations/db"
import { METRICS_CONTENT_TYPE } from "@helmr/migrations/metrics"
import { checkDependencies } from "@helmr/migrations/service"
import type { Valkey } from "@helmr/migrations/valkey"
import type { DispatcherMetrics } from "./metrics.ts"

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
          headers: { "content-type": METRICS_CONTENT_TYPE },
        })
      }
      if (path !== "/healthz") return new Response("not found", { status: 404 })
      const { ok, ...parts } = await checkDependencies(options.sql, options.valkey)
      return Response.json({ status: ok ? "ok" : "degraded", ...parts }, { status: ok ? 200 : 503 })
    },
  })
}
