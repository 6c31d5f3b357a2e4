import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { InsertedRun, RunGuardRefusal } from "@helmr/migrations/queries/insert-runs"
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

/** The run of a result that must not be a refusal. */
const ok = (result: InsertedRun | RunGuardRefusal): InsertedRun => {
  if ("refused" in result) throw new Error(`refused: ${result.refused}`)
  return result
}

const input = (i: number, extra: object = {}) => ({
  environmentId,
  deploymentId,
  taskId: "t",
  payload: { i },
  availableAt: new Date(),
  ...extra,
})

describe("RunBatcher", () => {
  test("concurrent inserts: each caller gets its own run, committed and enqueued", async () => {
    const batcher = new RunBatcher(api.deps, { maxInFlight: 1, maxBatch: 16 })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => batcher.insert(input(i)).then(ok)),
    )
    expect(results.every((r) => r.created)).toBe(true)
    const ids = results.map((r) => r.id)
    const rows = await api.db.sql<{ id: string; payload: { i: number } }[]>`
      select id, payload from runs where id in ${api.db.sql(ids)}`
    const byId = new Map(rows.map((r) => [r.id, r.payload.i]))
    expect(ids.map((id) => byId.get(id))).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const scores = await api.valkey.valkey.zmscore(api.valkey.keys.runQueue, ...ids)
    expect(scores.every((s) => s !== null)).toBe(true)
  })

  test("a bad run in a batch fails alone; one idempotency key gets one run", async () => {
    const batcher = new RunBatcher(api.deps, { maxInFlight: 1 })
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
    const [a, b, , c] = settled.map((s) => (s.status === "fulfilled" ? ok(s.value) : null))
    expect([a?.created, b?.created, c?.created]).toEqual([true, true, false])
    expect(c?.id).toBe(b!.id)
    const [n] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from runs where deployment_id = 'dep_missing'`
    expect(n?.n).toBe(0)
  })
})

describe("guarded inserts", () => {
  test("a revoked key or a deployment no longer current is refused and writes nothing", async () => {
    const batcher = new RunBatcher(api.deps)
    const [key] = await api.db.sql<{ id: string }[]>`
      select id from api_keys where environment_id = ${environmentId}`
    const guard = { apiKeyId: key!.id }
    expect(ok(await batcher.insert(input(1001), guard)).created).toBe(true)
    const newer = await insertTestDeployment(api.db.sql, {
      environmentId,
      projectId: api.project.projectId,
      manifest: testManifest([{ id: "t" }]),
    })
    expect(await batcher.insert(input(1002), guard)).toEqual({ refused: "deployment" })
    await api.db.sql`update api_keys set revoked_at = now() where id = ${key!.id}`
    expect(await batcher.insert(input(1003, { deploymentId: newer }), guard)).toEqual({
      refused: "key",
    })
    await api.db.sql`update api_keys set revoked_at = null where id = ${key!.id}`
    const [n] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from runs where payload->>'i' in ('1002', '1003')`
    expect(n?.n).toBe(0)
    deploymentId = newer
  })
})
