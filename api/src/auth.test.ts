import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateApiKey } from "@helmr/migrations/api-keys"
import { createApp } from "./app.ts"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "./testing.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi("auth")
})
afterAll(() => api.close())

const whoami = (app: TestApi["app"], key: string) =>
  app.request("/api/v1/whoami", { headers: { authorization: `Bearer ${key}` } })

describe("environment key auth", () => {
  test("concurrent requests with many keys each get their own environment, or 401", async () => {
    const envs = api.project.environments
    const unknown = generateApiKey("dev").key
    const asks = Array.from({ length: 60 }, (_, i) => (i % 4 === 3 ? null : envs[i % envs.length]!))
    const results = await Promise.all(
      asks.map(async (env) => {
        const res = await whoami(api.app, env ? api.apiKeys[env.slug]! : unknown)
        return { status: res.status, body: (await res.json()) as { environment?: { id: string } } }
      }),
    )
    results.forEach((r, i) => {
      const env = asks[i]
      if (env) {
        expect(r.status).toBe(200)
        expect(r.body.environment?.id).toBe(env.id)
      } else expect(r.status).toBe(401)
    })
  })

  test("a key revoked while two API processes serve it is refused by both within 1 s", async () => {
    // A second app on the same Postgres and Valkey: another API process as far as keys go.
    const other = createApp(api.deps)
    const env = api.project.environments.find((e) => e.slug === "prod")!
    const key = api.apiKeys.prod!
    // Both have served the key (and would have cached it, were keys cached).
    expect((await whoami(api.app, key)).status).toBe(200)
    expect((await whoami(other, key)).status).toBe(200)
    const busy = Array.from({ length: 20 }, () => whoami(other, key))
    await api.db.sql`update api_keys set revoked_at = now() where environment_id = ${env.id}`
    const revokedAt = performance.now()
    await Promise.all(busy)
    for (const app of [other, api.app]) {
      let status = 0
      while (performance.now() - revokedAt < 1_000) {
        status = (await whoami(app, key)).status
        if (status === 401) break
        await Bun.sleep(20)
      }
      expect(status).toBe(401)
    }
    await api.db.sql`update api_keys set revoked_at = null where environment_id = ${env.id}`
  })

  test("a trigger's cached key: revoked is refused at once, a new promotion is used at once", async () => {
    const env = api.project.environments.find((e) => e.slug === "staging")!
    const key = api.apiKeys.staging!
    const promote = (taskId: string) =>
      insertTestDeployment(api.db.sql, {
        environmentId: env.id,
        projectId: api.project.projectId,
        manifest: testManifest([{ id: taskId }]),
      })
    const trigger = (taskId: string) =>
      api.app.request(`/api/v1/tasks/${taskId}/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      })
    const first = await promote("first")
    expect((await trigger("first")).status).toBe(201)
    const second = await promote("second")
    // The cache still says `first` is current: the insert's guard sends the API back for more.
    const res = await trigger("second")
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    const [run] = await api.db.sql<{ deploymentId: string }[]>`
      select deployment_id from runs where id = ${id}`
    expect(run?.deploymentId).toBe(second)
    expect(run?.deploymentId).not.toBe(first)
    expect((await trigger("first")).status).toBe(404)
    await api.db.sql`update api_keys set revoked_at = now() where environment_id = ${env.id}`
    const before = await api.db.sql`select count(*)::int as n from runs`
    expect((await trigger("second")).status).toBe(401)
    expect(await api.db.sql`select count(*)::int as n from runs`).toEqual(before)
    await api.db.sql`update api_keys set revoked_at = null where environment_id = ${env.id}`
  })
})
