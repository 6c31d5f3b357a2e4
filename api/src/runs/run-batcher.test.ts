import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "../testing.ts"
import { RunBatcher } from "./run-batcher.ts"

let api: TestApi
let environmentId: string
let deploymentId: string
beforeAll(async () => {
  api = await startTestApi("batcher")
  environmentId = api.project.environments[0]!.id
  deploymentId = await insertTestDeployment(api.db.sql, {
    environmentId,
    projectId: api.project.projectId,
    manifest: testManifest([{ id: "t" }]),
  })
})
afterAll(() => api.close())

const input = (i: number, extra: object = {}) => ({
  environmentId,
  deploymentId,
  taskId: "t",
  payload: { i },
  ...extra,
})

describe("RunBatcher", () => {
  test("concurrent inserts: each caller gets its own run, all committed", async () => {
    const batcher = new RunBatcher(api.db.sql, { maxInFlight: 1, maxBatch: 16 })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => batcher.insert(input(i))),
    )
    expect(results.every((r) => r.created)).toBe(true)
    expect(results.map((r) => r.run.payload)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })))
    const ids = results.map((r) => r.run.id)
    const [n] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from runs where id in ${api.db.sql(ids)}`
    expect(n?.n).toBe(50)
  })

  test("a bad run in a batch fails alone; one idempotency key gets one run", async () => {
    const batcher = new RunBatcher(api.db.sql, { maxInFlight: 1 })
    const settled = await Promise.allSettled([
      batcher.insert(input(0)),
      batcher.insert(input(1, { idempotencyKey: "k" })),
      batcher.insert(input(2, { deploymentId: "dep_missing" })),
      batcher.insert(input(3, { idempotencyKey: "k" })),
      batcher.insert(input(4)),
    ])
    expect(settled.map((s) => s.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ])
    const [a, b, , c] = settled.map((s) => (s.status === "fulfilled" ? s.value : null))
    expect([a?.created, b?.created, c?.created]).toEqual([true, true, false])
    expect(c?.run.id).toBe(b!.run.id)
    const [n] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from runs where deployment_id = 'dep_missing'`
    expect(n?.n).toBe(0)
  })
})
