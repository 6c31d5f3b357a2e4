import {
  Counter,
  Histogram,
  METRICS_CONTENT_TYPE,
  metricRegistry,
  SECONDS_BUCKETS,
} from "@helmr/migrations/metrics"
import type { Context } from "hono"
import { createMiddleware } from "hono/factory"
import { matchedRoutes } from "hono/route"
import type { AppEnv } from "../env.ts"

/** The API's Prometheus metrics; one registry per app. */
export function createApiMetrics() {
  const metrics = metricRegistry({
    requests: new Counter(
      "helmr_http_requests_total",
      "HTTP requests by route pattern (never the raw path; `unmatched` for unknown paths), method and status.",
    ),
    duration: new Histogram(
      "helmr_http_request_duration_seconds",
      "HTTP request latency until the response headers, by route pattern and method.",
      SECONDS_BUCKETS,
    ),
    triggered: new Counter(
      "helmr_runs_triggered_total",
      "Runs created through the API, by source (api: trigger and replay, batch).",
    ),
  })
  // Both sources are there from the start, so a rate over them has a zero to begin from.
  metrics.triggered.inc({ source: "api" }, 0)
  metrics.triggered.inc({ source: "batch" }, 0)
  return metrics
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/**
 * The registered pattern of the route that answered (`/api/v1/runs/:runId`): the last matched
 * route that is not a `*` middleware. Bounded by the routes in the code, whatever the caller sends.
 */
function routePattern(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c)
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]?.path ?? "*"
    if (!path.endsWith("*")) return path
  }
  return "unmatched"
}

/**
 * Counts every request and times it, and hands the registry to the routes (`c.get("metrics")`).
 * Put first so errors and 404s are counted too.
 */
export function recordRequests(metrics: ApiMetrics) {
  return createMiddleware<AppEnv>(async function recordRequests(c, next) {
    const started = performance.now()
    c.set("metrics", metrics)
    try {
      await next()
    } finally {
      const route = routePattern(c)
      // A method is a label too: anything unusual is folded into one value.
      const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER"
      metrics.requests.inc({ route, method, status: String(c.res.status) })
      metrics.duration.observe((performance.now() - started) / 1000, { route, method })
    }
  })
}

/** `GET /metrics` in the Prometheus text format. */
export function answerMetrics(metrics: ApiMetrics) {
  return (c: Context<AppEnv>) =>
    c.body(metrics.render(), 200, { "Content-Type": METRICS_CONTENT_TYPE })
}
