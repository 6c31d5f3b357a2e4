import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ApiError, createClient } from "@helmr/sdk"
import { ErrorEnvelope } from "@helmr/sdk/contract"
import { OPERATIONS } from "../openapi/operations.ts"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"

let f: ApiFixture
let limited: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("i4http", { overrides: { bodyLimitBytes: 64 * 1024 } })
  limited = await startApiFixture("i4rate", {
    overrides: { rateLimit: { limit: 3, windowSeconds: 3600 } },
  })
})
afterAll(async () => {
  await f.close()
  await limited.close()
})

const call = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${f.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${init.key ?? f.api.apiKeys.dev}`,
      ...(init.headers as Record<string, string>),
    },
  })

async function envelope(res: Response) {
  const body = ErrorEnvelope.parse(await res.json())
  expect(body.error.requestId).toBe(res.headers.get("x-request-id")!)
  return body.error
}

describe("HTTP edges", () => {
  test("a known path with the wrong method is 405 with Allow", async () => {
    const cases: [string, string, string][] = [
      ["GET", "/api/v1/tasks/review-pr/trigger", "POST"],
      ["DELETE", "/api/v1/runs", "GET, HEAD"],
      ["PATCH", "/api/v1/schedules/abc", "DELETE, GET, HEAD, PUT"],
      ["GET", "/api/v1/runs/run_x/cancel", "POST"],
      ["POST", "/api/v1/secrets", "GET, HEAD"],
      ["POST", "/healthz", "GET, HEAD"],
      ["DELETE", "/openapi.json", "GET, HEAD"],
    ]
    for (const [method, path, allow] of cases) {
      const res = await call(path, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get("allow")).toBe(allow)
      expect((await envelope(res)).code).toBe("method_not_allowed")
    }
  })

  test("unknown routes are 404, malformed JSON 400, wrong content type 415, big bodies 413", async () => {
    const unknown = await call("/api/v1/nothing-here")
    expect(unknown.status).toBe(404)
    expect((await envelope(unknown)).code).toBe("not_found")

    const post = (body: string, type = "application/json") =>
      call("/api/v1/tasks/no-payload/trigger", {
        method: "POST",
        headers: { "content-type": type },
        body,
      })
    for (const body of ['{"payload": ', "{'a':1}", "nope", '{"a":1}}']) {
      const res = await post(body)
      expect(res.status).toBe(400)
      expect((await envelope(res)).code).toBe("invalid_json")
    }
    const text = await post('{"payload":null}', "text/plain")
    expect(text.status).toBe(415)
    expect((await envelope(text)).code).toBe("unsupported_media_type")
    const big = await post(JSON.stringify({ payload: "x".repeat(70 * 1024) }))
    expect(big.status).toBe(413)
    expect((await envelope(big)).code).toBe("payload_too_large")
    // An empty body is an empty object: the no-payload task triggers.
    expect((await post("")).status).toBe(201)
    const [{ n } = { n: 0 }] = await f.api.db.sql<
      { n: number }[]
    >`select count(*)::int as n from runs`
    expect(n).toBe(1)
  })

  test("every response carries a request id, the caller's when it is sane", async () => {
    const res = await call("/api/v1/runs", { headers: { "x-request-id": "trace-123" } })
    expect(res.status).toBe(200)
    expect(res.headers.get("x-request-id")).toBe("trace-123")
    const error = await expectApiError(f.clients.dev.runs.retrieve("run_missing"))
    expect(error.status).toBe(404)
    expect((error as unknown as ApiError).requestId).toMatch(/^req_/)
  })

  test("per-key rate limit: 429 with Retry-After, other keys unaffected", async () => {
    const dev = limited.clients.dev
    for (let i = 0; i < 3; i++) await dev.schedules.timezones()
    const error = await expectApiError(dev.schedules.timezones())
    expect(error.status).toBe(429)
    expect(error.code).toBe("rate_limited")
    expect(error.retryAfter).toBeGreaterThanOrEqual(1)
    expect(error.retryAfter).toBeLessThanOrEqual(3600)
    const raw = await fetch(`${limited.url}/api/v1/runs`, {
      headers: { authorization: `Bearer ${limited.api.apiKeys.dev}` },
    })
    expect(raw.status).toBe(429)
    expect(Number(raw.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(raw.headers.get("ratelimit-remaining")).toBe("0")
    // Another environment's key has its own budget.
    expect((await limited.clients.staging.schedules.timezones()).length).toBeGreaterThan(100)
  })

  test("the client reports an unreachable API as a ConnectionError, not an ApiError", async () => {
    const dead = createClient({ apiUrl: "http://127.0.0.1:9", apiKey: "hk_dev_x" })
    const error = await dead.runs.list().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe("ConnectionError")
    const injected = createClient({
      apiUrl: "http://helmr.test",
      apiKey: "k",
      fetch: async () =>
        Response.json({ error: { code: "conflict", message: "m" } }, { status: 409 }),
    })
    const apiError = await injected.runs.cancel("run_x").catch((e: unknown) => e)
    expect(apiError).toBeInstanceOf(ApiError)
    expect((apiError as ApiError).code).toBe("conflict")
  })
})

describe("OpenAPI", () => {
  test("/openapi.json documents exactly the routes the app serves", async () => {
    const res = await fetch(`${f.url}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
      components: { schemas: Record<string, unknown> }
    }
    expect(doc.openapi).toBe("3.1.0")
    const served = new Set(
      f.api.app.routes
        .filter(
          (r) => r.method !== "ALL" && r.path.startsWith("/api/v1/") && r.path !== "/api/v1/whoami",
        )
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    )
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m} ${path}`),
      ),
    )
    const normalize = (s: Set<string>) => [...s].map((x) => x.replace(/\{[^}]+\}/g, "{}")).sort()
    expect(normalize(documented)).toEqual(normalize(served))
    expect(OPERATIONS.length).toBe(documented.size)
    for (const name of ["TriggerBody", "Run", "Schedule", "ErrorEnvelope", "TokenCompletion"]) {
      expect(doc.components.schemas[name]).toBeDefined()
    }
    const trigger = doc.paths["/api/v1/tasks/{taskId}/trigger"]!.post!
    expect(Object.keys(trigger.responses)).toEqual(
      expect.arrayContaining(["200", "201", "400", "401", "404", "405", "413", "422", "429"]),
    )
  })
})
