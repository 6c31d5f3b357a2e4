import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ConfigError, parseConfig } from "@helmr/migrations/config"
import { createApp } from "../app.ts"
import { ApiConfig } from "../config.ts"
import { FIXTURE_TASKS } from "../test-fixtures.ts"
import { insertTestDeployment, startTestApi, type TestApi } from "../testing.ts"

const ALLOWED = "https://app.example.com"
let api: TestApi
let key: string
beforeAll(async () => {
  api = await startTestApi("h12b-metrics", { corsOrigins: [ALLOWED, "http://localhost:5173"] })
  const dev = api.project.environments.find((e) => e.slug === "dev")!
  await insertTestDeployment(api.db.sql, {
    environmentId: dev.id,
    projectId: api.project.projectId,
    manifest: FIXTURE_TASKS,
  })
  key = api.apiKeys.dev!
})
afterAll(() => api.close())

const json = (body: unknown, extra: Record<string, string> = {}) => ({
  method: "POST",
  headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...extra },
  body: JSON.stringify(body),
})

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe("GET /metrics on the API", () => {
  test("counts requests by route pattern and status, times them, and counts triggers", async () => {
    const trigger = await api.app.request("/api/v1/tasks/no-payload/trigger", json({}))
    expect(trigger.status).toBe(201)
    const { id } = (await trigger.json()) as { id: string }
    const batch = await api.app.request("/api/v1/tasks/no-payload/batch", json({ items: [{}, {}] }))
    expect(batch.status).toBe(201)
    const get = await api.app.request(`/api/v1/runs/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(get.status).toBe(200)
    expect((await api.app.request("/no/such/path/123")).status).toBe(404)
    expect((await api.app.request("/api/v1/runs/run_nope")).status).toBe(401)

    const res = await api.app.request("/metrics")
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4")
    const text = await res.text()
    expect(text).toContain("# TYPE helmr_http_requests_total counter")
    expect(text).toContain("# TYPE helmr_http_request_duration_seconds histogram")
    expect(text).toContain("# TYPE helmr_runs_triggered_total counter")
    const trig = 'route="/api/v1/tasks/:taskId/trigger",method="POST"'
    expect(sample(text, `helmr_http_requests_total{${trig},status="201"}`)).toBe(1)
    expect(sample(text, `helmr_http_request_duration_seconds_count{${trig}}`)).toBe(1)
    expect(sample(text, `helmr_http_request_duration_seconds_bucket{${trig},le="+Inf"}`)).toBe(1)
    expect(sample(text, `helmr_http_request_duration_seconds_sum{${trig}}`)).toBeGreaterThan(0)
    expect(sample(text, 'helmr_runs_triggered_total{source="api"}')).toBe(1)
    expect(sample(text, 'helmr_runs_triggered_total{source="batch"}')).toBe(2)
    // The route pattern, never the run id; an unauthenticated call still has its route.
    const run = 'route="/api/v1/runs/:runId",method="GET"'
    expect(sample(text, `helmr_http_requests_total{${run},status="200"}`)).toBe(1)
    expect(sample(text, `helmr_http_requests_total{${run},status="401"}`)).toBe(1)
    expect(text).not.toContain(id)
    expect(text).not.toContain("run_nope")
    expect(
      sample(text, 'helmr_http_requests_total{route="unmatched",method="GET",status="404"}'),
    ).toBe(1)
  })

  test("needs no key, refuses other methods, and cannot 5xx on odd input", async () => {
    expect((await api.app.request("/metrics", { method: "POST" })).status).toBe(405)
    const odd = await api.app.request("/metrics?x=%ZZ", { headers: { authorization: "Bearer x" } })
    expect(odd.status).toBe(200)
    const weird = await api.app.request("/api/v1/%E0%A4%A", { method: "PROPFIND" })
    expect(weird.status).toBeLessThan(500)
    const text = await (await api.app.request("/metrics")).text()
    expect(text).toContain('method="OTHER"')
  })

  test("HELMR_METRICS=off removes the endpoint", async () => {
    const app = createApp({ ...api.deps, metricsEndpoint: false })
    expect((await app.request("/metrics")).status).toBe(404)
  })
})

describe("CORS", () => {
  test("off by default: no Access-Control-Allow-Origin, preflight not answered", async () => {
    const app = createApp({ ...api.deps, corsOrigins: undefined })
    const res = await app.request("/api/v1/whoami", {
      headers: { authorization: `Bearer ${key}`, origin: ALLOWED },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
    const pre = await app.request("/api/v1/whoami", {
      method: "OPTIONS",
      headers: { origin: ALLOWED, "access-control-request-method": "GET" },
    })
    expect(pre.headers.get("access-control-allow-origin")).toBeNull()
    expect(pre.status).toBeLessThan(500)
  })

  test("an allowed origin is echoed, on success and on errors; another origin is not", async () => {
    const ok = await api.app.request("/api/v1/whoami", {
      headers: { authorization: `Bearer ${key}`, origin: ALLOWED },
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED)
    expect(ok.headers.get("access-control-expose-headers")).toContain("X-Request-Id")
    const unauthorized = await api.app.request("/api/v1/whoami", { headers: { origin: ALLOWED } })
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get("access-control-allow-origin")).toBe(ALLOWED)
    for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
      const res = await api.app.request("/api/v1/whoami", {
        headers: { authorization: `Bearer ${key}`, origin },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get("access-control-allow-origin")).toBeNull()
    }
    // Not on the service endpoints.
    const health = await api.app.request("/metrics", { headers: { origin: ALLOWED } })
    expect(health.headers.get("access-control-allow-origin")).toBeNull()
  })

  test("preflight names the methods and headers, without a key", async () => {
    const pre = await api.app.request("/api/v1/tasks/no-payload/trigger", {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get("access-control-allow-origin")).toBe(ALLOWED)
    const methods = pre.headers.get("access-control-allow-methods") ?? ""
    for (const m of ["GET", "POST", "DELETE"]) expect(methods).toContain(m)
    const headers = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase()
    for (const h of ["authorization", "content-type", "last-event-id"]) expect(headers).toContain(h)
    const other = await api.app.request("/api/v1/tasks/no-payload/trigger", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    })
    expect(other.status).toBeLessThan(500)
    expect(other.headers.get("access-control-allow-origin")).toBeNull()
  })

  test("the SSE route streams with CORS headers", async () => {
    const trigger = await api.app.request("/api/v1/tasks/no-payload/trigger", json({}))
    const { id } = (await trigger.json()) as { id: string }
    const controller = new AbortController()
    const res = await api.app.request(`/api/v1/runs/${id}/events`, {
      headers: { authorization: `Bearer ${key}`, origin: ALLOWED },
      signal: controller.signal,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/event-stream")
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED)
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toContain("data:")
    controller.abort()
    await reader.cancel().catch(() => {})
  })

  test("HELMR_CORS_ORIGINS is validated at start, naming the variable", () => {
    const base = {
      HELMR_DATABASE_URL: "postgres://localhost/x",
      HELMR_VALKEY_URL: "redis://localhost:6379",
      HELMR_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    }
    expect(parseConfig(ApiConfig, base).HELMR_CORS_ORIGINS).toEqual([])
    expect(
      parseConfig(ApiConfig, { ...base, HELMR_CORS_ORIGINS: "https://a.example, http://b:8080" })
        .HELMR_CORS_ORIGINS,
    ).toEqual(["https://a.example", "http://b:8080"])
    for (const bad of [
      "https://a.example/",
      "https://a.example/app",
      "ftp://a.example",
      "*",
      "a.example",
    ]) {
      expect(() => parseConfig(ApiConfig, { ...base, HELMR_CORS_ORIGINS: bad })).toThrow(
        ConfigError,
      )
      try {
        parseConfig(ApiConfig, { ...base, HELMR_CORS_ORIGINS: bad })
      } catch (error) {
        expect((error as Error).message).toContain("HELMR_CORS_ORIGINS")
      }
    }
    expect(() => parseConfig(ApiConfig, { ...base, HELMR_METRICS: "maybe" })).toThrow(
      "HELMR_METRICS",
    )
  })
})
