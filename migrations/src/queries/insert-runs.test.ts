import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "../bootstrap.ts"
import { newId } from "../ids.ts"
import type { RunRow } from "../rows.ts"
import { createTestDatabase, type TestDatabase } from "../testing.ts"
import { insertRuns } from "./insert-runs.ts"
import { insertRun } from "./runs.ts"

let db: TestDatabase
let environmentId: string
let deploymentId: string

beforeAll(async () => {
  db = await createTestDatabase("insruns")
  const boot = await bootstrapProject(db.sql, { slug: "insruns" })
  environmentId = boot.environments[0]!.id
  deploymentId = newId("dep")
  const digest = `sha256:${"0".repeat(64)}`
  await db.sql`insert into blobs (project_id, digest, size, content) values (${boot.projectId}, ${digest}, 0, ${new Uint8Array()})`
  await db.sql`insert into deployments (id, project_id, environment_id, version, content_digest, bundle_digest, manifest)
    values (${deploymentId}, ${boot.projectId}, ${environmentId}, 1, 'c1', ${digest}, ${db.sql.json({ version: 1 })})`
})
afterAll(() => db.drop())

const item = (extra: Record<string, unknown> = {}) => ({
  environmentId,
  deploymentId,
  taskId: "t",
  payload: { user_id: 1 },
  ...extra,
})

describe("insertRuns", () => {
  test("creates every run with its session, event and flow control, in input order", async () => {
    const results = await insertRuns(db.sql, [
      item({ payload: { n: 0 } }),
      item({
        payload: { n: 1 },
        tags: ["a"],
        maxAttempts: 3,
        queue: "emails",
        concurrencyKey: "org_1",
        concurrencyLimit: 2,
        retry: { factor: 3, minDelayMs: 100 },
      }),
    ])
    expect(results.map((r) => r.created)).toEqual([true, true])
    const runs = await db.sql<RunRow[]>`
      select * from runs where id in ${db.sql(results.map((r) => r.id))}`
    const byId = new Map(runs.map((r) => [r.id, r]))
    expect(byId.get(results[0]!.id)).toMatchObject({
      payload: { n: 0 },
      queue: "task:t",
      concurrencyLimit: null,
    })
    expect(byId.get(results[1]!.id)).toMatchObject({
      payload: { n: 1 },
      tags: ["a"],
      maxAttempts: 3,
      queue: "emails",
      concurrencyKey: "org_1",
      concurrencyLimit: 2,
      retry: { factor: 3, minDelayMs: 100 },
      status: "queued",
    })
    const [counts] = await db.sql<{ sessions: number; events: number }[]>`
      select (select count(*)::int from sessions s join runs r on r.session_id = s.id
                where r.id in ${db.sql(results.map((r) => r.id))}) as sessions,
             (select count(*)::int from run_events where run_id in ${db.sql(results.map((r) => r.id))}) as events`
    expect(counts).toEqual({ sessions: 2, events: 2 })
  })

  test("idempotency per item: a known key, and a key repeated inside the batch", async () => {
    const { run: known } = await insertRun(db.sql, item({ idempotencyKey: "known" }))
    const results = await insertRuns(db.sql, [
      item({ idempotencyKey: "fresh" }),
      item({ idempotencyKey: "known" }),
      item({ idempotencyKey: "fresh" }),
      item(),
    ])
    expect(results[1]).toEqual({ id: known.id, created: false })
    expect(results[0]?.created).toBe(true)
    expect(results[2]).toEqual({ id: results[0]!.id, created: false })
    expect(results[3]?.created).toBe(true)
    const [orphans] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from sessions s
      where not exists (select 1 from runs r where r.session_id = s.id)`
    expect(orphans?.n).toBe(0)
  })

  test("1,000 items in one call", async () => {
    const results = await insertRuns(
      db.sql,
      Array.from({ length: 1000 }, (_, i) => item({ payload: { i } })),
    )
    expect(new Set(results.map((r) => r.id)).size).toBe(1000)
    const [first] = await db.sql<
      { payload: unknown }[]
    >`select payload from runs where id = ${results[0]!.id}`
    const [last] = await db.sql<
      { payload: unknown }[]
    >`select payload from runs where id = ${results[999]!.id}`
    expect(first?.payload).toEqual({ i: 0 })
    expect(last?.payload).toEqual({ i: 999 })
  })
})
