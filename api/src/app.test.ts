import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateApiKey } from "@helmr/migrations/api-keys"
import { ErrorEnvelope } from "@helmr/sdk/contract"
import { startTestApi, type TestApi } from "./testing.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi("app")
})
afterAll(() => api.close())

const auth = (key: string) => ({ headers: { authorization: `Bearer ${key}` } })

describe("app skeleton", () => {
  test("healthz reports Postgres and Valkey", async () => {
    const res = await api.app.request("/healthz")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: "ok", postgres: "ok", valkey: "ok" })
  })

  test("a key resolves to its own environment", async () => {
    for (const env of api.project.environments) {
      const res = await api.app.request("/api/v1/whoami", auth(api.apiKeys[env.slug]!))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        environment: { id: env.id, slug: env.slug },
        projectId: api.project.projectId,
      })
    }
  })

  test("missing, malformed, unknown and revoked keys are 401 in the envelope", async () => {
    const revoked = api.apiKeys.dev!
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Basic abc" },
      { authorization: `Bearer ${generateApiKey("dev").key}` },
    ]
    for (const headers of cases) {
      const res = await api.app.request("/api/v1/whoami", { headers })
      expect(res.status).toBe(401)
      const body = ErrorEnvelope.parse(await res.json())
      expect(body.error.code).toBe("unauthorized")
    }
    await api.db
      .sql`update api_keys set revoked_at = now() where environment_id = ${api.project.environments[0]!.id}`
    const res = await api.app.request("/api/v1/whoami", auth(revoked))
    expect(res.status).toBe(401)
    await api.db
      .sql`update api_keys set revoked_at = null where environment_id = ${api.project.environments[0]!.id}`
  })

  test("unknown routes are 404 in the envelope, with a request id", async () => {
    const res = await api.app.request("/nope")
    expect(res.status).toBe(404)
    const body = ErrorEnvelope.parse(await res.json())
    expect(body.error.code).toBe("not_found")
    expect(res.headers.get("x-request-id")).toBe(body.error.requestId!)
  })

  test("a sane incoming X-Request-Id is kept, a bad one replaced", async () => {
    const kept = await api.app.request("/healthz", { headers: { "x-request-id": "abc-123" } })
    expect(kept.headers.get("x-request-id")).toBe("abc-123")
    const replaced = await api.app.request("/healthz", {
      headers: { "x-request-id": "bad id\u0001" },
    })
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/)
  })
})
