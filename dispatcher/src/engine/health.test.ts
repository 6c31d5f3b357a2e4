import { afterAll, expect, test } from "bun:test"
import { createDb } from "@helmr/migrations/db"
import { createTestValkey, TEST_ADMIN_URL } from "@helmr/migrations/testing"
import { serveHealth } from "./health.ts"
import { createMetrics } from "./metrics.ts"

const t = createTestValkey("i5health")
const sql = createDb(TEST_ADMIN_URL, { max: 1 })
afterAll(async () => {
  await t.cleanup()
  await sql.end()
})

test("GET /healthz and GET /metrics (Prometheus text); other paths and methods refused", async () => {
  const metrics = createMetrics()
  metrics.fires.inc({ outcome: "fired" }, 3)
  metrics.fires.inc({ outcome: "skipped" })
  metrics.lateness.observe(0.004)
  metrics.lateness.observe(0.3)
  metrics.staleLeases.inc({ reason: "version" })
  metrics.repairs.inc({ kind: "missing" }, 2)
  const server = serveHealth({ port: 0, sql, valkey: t.valkey, metrics })
  try {
    const health = await fetch(new URL("/healthz", server.url))
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: "ok", postgres: "ok", valkey: "ok" })
    const res = await fetch(new URL("/metrics", server.url))
    expect(res.headers.get("content-type")).toContain("text/plain")
    const text = await res.text()
    expect(text).toContain('helmr_dispatcher_fires_total{outcome="fired"} 3')
    expect(text).toContain('helmr_dispatcher_fires_total{outcome="skipped"} 1')
    expect(text).toContain("# TYPE helmr_dispatcher_fire_lateness_seconds histogram")
    expect(text).toContain('helmr_dispatcher_fire_lateness_seconds_bucket{le="0.005"} 1')
    expect(text).toContain('helmr_dispatcher_fire_lateness_seconds_bucket{le="0.5"} 2')
    expect(text).toContain("helmr_dispatcher_fire_lateness_seconds_count 2")
    expect(text).toContain('helmr_dispatcher_stale_leases_total{reason="version"} 1')
    expect(text).toContain('helmr_dispatcher_repairs_total{kind="missing"} 2')
    expect(text).toContain("# TYPE helmr_dispatcher_fire_retries_total counter")
    expect((await fetch(new URL("/nope", server.url))).status).toBe(404)
    expect((await fetch(new URL("/metrics", server.url), { method: "POST" })).status).toBe(405)
  } finally {
    await server.stop(true)
  }
})
