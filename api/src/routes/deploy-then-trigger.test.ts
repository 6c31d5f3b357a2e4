import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createClient, type HelmrClient } from "@helmr/sdk"
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

async function post(path: string, body: unknown) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${api.apiKeys.dev}`, "content-type": "application/json" },
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
})
