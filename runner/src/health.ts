import type { Sql } from "@helmr/migrations/db"
import { METRICS_CONTENT_TYPE } from "@helmr/migrations/metrics"
import { checkDependencies } from "@helmr/migrations/service"
import type { Valkey } from "@helmr/migrations/valkey"
import type { Runner } from "./compose.ts"
import type { RunLoop } from "./run/run-loop.ts"
import { refreshRunStates } from "./run/runner-metrics.ts"

/**
 * The runner's own HTTP port: `GET /healthz` (Postgres, Valkey, Docker) and `GET /metrics`
 * (Prometheus text, no key: keep the port on the private network).
 */
export function serveRunnerHealth(options: {
  port: number
  sql: Sql
  valkey: Valkey
  runner: Runner
  loop: () => RunLoop
}) {
  const { sql, valkey, runner } = options
  return Bun.serve({
    port: options.port,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (path !== "/healthz" && path !== "/metrics")
        return new Response("not found", { status: 404 })
      if (req.method !== "GET" && req.method !== "HEAD")
        return new Response("method not allowed", { status: 405, headers: { Allow: "GET, HEAD" } })
      if (path === "/metrics") {
        const { metrics, runnerId } = runner.deps
        // Postgres down: the other families still answer; the state gauge keeps its last values.
        await refreshRunStates(sql, runnerId, metrics).catch(() => {})
        return new Response(metrics.render(), {
          headers: { "content-type": METRICS_CONTENT_TYPE },
        })
      }
      const { ok, ...parts } = await checkDependencies(sql, valkey)
      const docker = runner.docker
        ? await runner.docker.ping().then(
            () => "ok" as const,
            () => "down" as const,
          )
        : "unused"
      const healthy = ok && docker !== "down"
      return Response.json(
        {
          status: healthy ? "ok" : "degraded",
          ...parts,
          docker,
          driver: runner.deps.driver.kind,
          firewall: runner.network ? runner.network.firewall : null,
          active: options.loop().active(),
        },
        { status: healthy ? 200 : 503 },
      )
    },
  })
}
