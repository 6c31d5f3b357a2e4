import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createClient, type HelmrClient } from "@helmr/sdk"
import { createApp } from "../app.ts"
import { buildUpload } from "../deployments/testing.ts"
import { expectApiError } from "../test-fixtures.ts"
import { startTestApi, type TestApi } from "../testing.ts"

/** The whole path through real endpoints: upload and promote a deployment, then use it. */
let api: TestApi
let client: HelmrClient
let url = ""
beforeAll(async () => {
  api = await startTestApi("i4e2e", {}, { builder: true })
  url = api.listen().url
  client = createClient({ apiUrl: url, apiKey: api.apiKeys.dev! })
})
afterAll(() => api.close())

async function post(path: string, body: unknown, key = api.apiKeys.dev, base = url) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  })
  expect([200, 201]).toContain(res.status)
  const answer = (await res.json()) as { id: string }
  // An upload is promotable once the runner built it.
  if (path === "/deployments") await api.waitForBuild(answer.id)
  return answer
}

describe("deploy, promote, then trigger and schedule", () => {
  test("triggers validate against the promoted deployment; a new promotion switches tasks", async () => {
    const first = await post(
      "/deployments",
      buildUpload([{ id: "sync" }, { id: "nightly", cron: "0 2 * * *" }], { salt: "1" }),
    )
    expect((await expectApiError(client.runs.trigger("sync", { n: 1 }))).status).toBe(404)
    await post(`/deployments/${first.id}/promote`, {})

    const run = await client.runs.trigger("sync", { n: 1 })
    expect((await client.runs.retrieve(run.id)).deploymentId).toBe(first.id)
    const bad = await expectApiError(client.runs.trigger("sync", { n: "one" }))
    expect(bad.details).toEqual([{ path: "payload.n", message: expect.any(String) }])

    // The declarative schedule promotion made is visible and read-only.
    const declared = (await client.schedules.list({ kind: "declarative" })).data
    expect(declared.map((s) => s.task)).toEqual(["nightly"])
    const refused = await expectApiError(client.schedules.deactivate(declared[0]!.id))
    expect(refused.code).toBe("declarative_schedule")
    // An imperative schedule of the same scheduled task is allowed beside it.
    const imperative = await client.schedules.create({
      deduplicationKey: "nightly-extra",
      task: "nightly",
      cron: "30 3 * * *",
    })
    expect(imperative.kind).toBe("imperative")

    const second = await post("/deployments", buildUpload([{ id: "other" }], { salt: "2" }))
    await post(`/deployments/${second.id}/promote`, {})
    expect((await expectApiError(client.runs.trigger("sync", { n: 1 }))).status).toBe(404)
    const other = await client.runs.trigger("other", { n: 2 })
    expect((await client.runs.retrieve(other.id)).deploymentId).toBe(second.id)
    // Replaying a run of a task the current deployment no longer has is a 404.
    expect((await expectApiError(client.runs.replay(run.id))).status).toBe(404)
  })

  test("a promotion or rollback through one API process is used by a second within 1 s", async () => {
    // A second app on the same Postgres and Valkey: another API process, with its own key cache
    // and manifest cache.
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createApp(api.deps).fetch })
    const otherUrl = other.url.toString().replace(/\/$/, "")
    try {
      const key = api.apiKeys.staging!
      const trigger = async (taskId: string) => {
        const res = await fetch(`${otherUrl}/api/v1/tasks/${taskId}/trigger`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ payload: { n: 1 } }),
        })
        const body = (await res.json()) as { id?: string }
        if (res.status !== 201 || !body.id) return { status: res.status, deploymentId: null }
        const [run] = await api.db.sql<{ deploymentId: string }[]>`
          select deployment_id from runs where id = ${body.id}`
        return { status: res.status, deploymentId: run?.deploymentId ?? null }
      }
      /** Triggers on the second process until it answers as expected, for at most 1 s. */
      const seenWithin1s = async (
        taskId: string,
        want: { status: number; deploymentId: string | null },
      ) => {
        const since = performance.now()
        let got = await trigger(taskId)
        while (JSON.stringify(got) !== JSON.stringify(want) && performance.now() - since < 1_000) {
          await Bun.sleep(20)
          got = await trigger(taskId)
        }
        expect(got).toEqual(want)
      }
      const alpha = await post("/deployments", buildUpload([{ id: "alpha" }], { salt: "a" }), key)
      const beta = await post("/deployments", buildUpload([{ id: "beta" }], { salt: "b" }), key)
      await post(`/deployments/${alpha.id}/promote`, {}, key)
      // The second process has served the key with `alpha` current (its caches are warm).
      expect(await trigger("alpha")).toEqual({ status: 201, deploymentId: alpha.id })

      await post(`/deployments/${beta.id}/promote`, {}, key)
      await seenWithin1s("beta", { status: 201, deploymentId: beta.id })
      await seenWithin1s("alpha", { status: 404, deploymentId: null })

      // A rollback is a promotion of the older deployment.
      await post(`/deployments/${alpha.id}/promote`, {}, key)
      await seenWithin1s("alpha", { status: 201, deploymentId: alpha.id })
      await seenWithin1s("beta", { status: 404, deploymentId: null })
    } finally {
      await other.stop(true)
    }
  })
})
