import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { RunRow } from "@helmr/migrations/rows"
import { createClient, type HelmrClient } from "@helmr/sdk"
import { z } from "zod"
import { expectApiError, reviewPayload } from "../test-fixtures.ts"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "../testing.ts"

// Batch triggers and the flow-control options of a trigger, against the real app, Postgres and
// Valkey.

let api: TestApi
let client: HelmrClient
let stop: () => Promise<void>
let environmentId: string

beforeAll(async () => {
  api = await startTestApi("i11batch")
  const server = api.listen()
  stop = server.stop
  environmentId = api.project.environments.find((e) => e.slug === "dev")?.id ?? ""
  await insertTestDeployment(api.db.sql, {
    environmentId,
    projectId: api.project.projectId,
    manifest: testManifest([
      { id: "review-pr", payloadSchema: z.toJSONSchema(reviewPayload) as Record<string, unknown> },
      { id: "mailer", queue: { name: "emails", concurrencyLimit: 3 } },
      { id: "digest", queue: { name: "emails" } },
      { id: "own-queue", queue: { concurrencyLimit: 2 } },
      {
        id: "synced",
        retry: { maxAttempts: 4, factor: 3, minDelay: "200ms", maxDelay: "5s" },
      },
    ]),
  })
  client = createClient({ apiUrl: server.url, apiKey: api.apiKeys.dev ?? "" })
})
afterAll(async () => {
  await stop?.()
  await api?.close()
})

const runsNow = async () => {
  const [row] = await api.db.sql<{ n: number }[]>`select count(*)::int as n from runs`
  return row?.n ?? 0
}
const loadRun = async (id: string) => {
  const [run] = await api.db.sql<RunRow[]>`select * from runs where id = ${id}`
  return run
}

describe("flow control on a single trigger", () => {
  test("the task's queue, a named queue's shared limit, per-trigger overrides", async () => {
    const own = await client.runs.trigger("own-queue")
    expect(await loadRun(own.id)).toMatchObject({
      queue: "task:own-queue",
      concurrencyLimit: 2,
      concurrencyKey: null,
    })
    const shared = await client.runs.trigger("digest", undefined, { concurrencyKey: "org_1" })
    expect(await loadRun(shared.id)).toMatchObject({
      queue: "emails",
      concurrencyLimit: 3,
      concurrencyKey: "org_1",
    })
    // Retrieve shows them too.
    expect(await client.runs.retrieve(shared.id)).toMatchObject({
      queue: "emails",
      concurrencyKey: "org_1",
      concurrencyLimit: 3,
    })
    const moved = await client.runs.trigger(
      "review-pr",
      { prNumber: 1 },
      {
        queue: { name: "emails" },
      },
    )
    expect(await loadRun(moved.id)).toMatchObject({ queue: "emails", concurrencyLimit: 3 })
    const limited = await client.runs.trigger(
      "review-pr",
      { prNumber: 1 },
      {
        queue: { concurrencyLimit: 7 },
      },
    )
    expect(await loadRun(limited.id)).toMatchObject({
      queue: "task:review-pr",
      concurrencyLimit: 7,
    })
  })

  test("retry: the task's policy, overridden field by field", async () => {
    const declared = await client.runs.trigger("synced")
    expect(await loadRun(declared.id)).toMatchObject({
      maxAttempts: 4,
      retry: { factor: 3, minDelayMs: 200, maxDelayMs: 5_000 },
    })
    const overridden = await client.runs.trigger("synced", undefined, {
      retry: { maxAttempts: 2, minDelay: "1s" },
    })
    expect(await loadRun(overridden.id)).toMatchObject({
      maxAttempts: 2,
      retry: { factor: 3, minDelayMs: 1_000, maxDelayMs: 5_000 },
    })
  })

  test("bad flow options are 422 naming the field, and write nothing", async () => {
    const before = await runsNow()
    const cases: [Record<string, unknown>, string][] = [
      [{ queue: { concurrencyLimit: 0 } }, "options.queue.concurrencyLimit"],
      [{ queue: { name: "has space" } }, "options.queue.name"],
      [{ concurrencyKey: "" }, "options.concurrencyKey"],
      [{ concurrencyKey: "a b" }, "options.concurrencyKey"],
      [{ retry: { maxAttempts: 0 } }, "options.retry.maxAttempts"],
      [{ retry: { minDelay: "1m", maxDelay: "1s" } }, "options.retry.maxDelay"],
      [{ retry: { maxDelay: "31d" } }, "options.retry.maxDelay"],
    ]
    for (const [options, path] of cases) {
      const error = await expectApiError(
        client.runs.trigger("review-pr", { prNumber: 1 }, options as never),
      )
      expect(error.status).toBe(422)
      expect(error.details).toContainEqual(expect.objectContaining({ path }))
    }
    expect(await runsNow()).toBe(before)
  })
})

describe("batch trigger", () => {
  test("1,000 items of one task in one request: 1,000 queued and enqueued runs, in order", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ payload: { prNumber: i + 1 } }))
    const { runs } = await client.tasks.batchTrigger("review-pr", items)
    expect(runs).toHaveLength(1000)
    expect(new Set(runs.map((r) => r.id)).size).toBe(1000)
    expect(runs.every((r) => r.created && r.taskId === "review-pr")).toBe(true)
    const [first, last] = [await loadRun(runs[0]!.id), await loadRun(runs[999]!.id)]
    expect(first).toMatchObject({ status: "queued", payload: { prNumber: 1 } })
    expect(last).toMatchObject({ status: "queued", payload: { prNumber: 1000 } })
    const queued = await api.valkey.valkey.zmscore(
      api.valkey.keys.runQueue,
      ...runs.map((r) => r.id),
    )
    expect(queued.every((score) => score !== null)).toBe(true)
  }, 60_000)

  test("one bad item: 422 naming it, and no run at all", async () => {
    const before = await runsNow()
    const items: { payload?: unknown; options?: Record<string, unknown> }[] = Array.from(
      { length: 50 },
      (_, i) => ({ payload: { prNumber: i + 1 } }),
    )
    items[17] = { payload: { prNumber: -4 } }
    items[31] = { payload: { prNumber: 3 }, options: { delay: "400d" } }
    const error = await expectApiError(client.tasks.batchTrigger("review-pr", items as never))
    expect(error.status).toBe(422)
    const paths = (error.details as { path: string }[]).map((d) => d.path)
    expect(paths).toEqual(["items[17].payload.prNumber", "items[31].options.delay"])
    const shape = await expectApiError(
      client.tasks.batchTrigger("review-pr", [{}, { options: { tags: ["a b"] } }] as never),
    )
    expect(shape.details).toContainEqual(
      expect.objectContaining({ path: "items[1].options.tags[0]" }),
    )
    expect(await runsNow()).toBe(before)
  })

  test("limits: no items, more than 1,000 items, an unknown task", async () => {
    const empty = await expectApiError(client.tasks.batchTrigger("review-pr", []))
    expect(empty.details).toContainEqual(expect.objectContaining({ path: "items" }))
    const tooMany = await expectApiError(
      client.tasks.batchTrigger(
        "no-such",
        Array.from({ length: 1001 }, () => ({})),
      ),
    )
    expect(tooMany.status).toBe(422)
    expect(tooMany.details).toContainEqual(expect.objectContaining({ path: "items" }))
    expect((await expectApiError(client.tasks.batchTrigger("no-such", [{}]))).status).toBe(404)
  })

  test("idempotency per item: known keys return their run, repeated keys one run", async () => {
    const known = await client.runs.trigger(
      "review-pr",
      { prNumber: 5 },
      { idempotencyKey: "b-known" },
    )
    const { runs } = await client.tasks.batchTrigger("review-pr", [
      { payload: { prNumber: 1 }, options: { idempotencyKey: "b-new" } },
      { payload: { prNumber: 2 }, options: { idempotencyKey: "b-known" } },
      { payload: { prNumber: 3 }, options: { idempotencyKey: "b-new" } },
    ])
    expect(runs.map((r) => r.created)).toEqual([true, false, false])
    expect(runs[1]?.id).toBe(known.id)
    expect(runs[2]?.id).toBe(runs[0]?.id)
    const again = await client.tasks.batchTrigger("review-pr", [
      { payload: { prNumber: 1 }, options: { idempotencyKey: "b-new" } },
    ])
    expect(again.runs).toEqual([{ id: runs[0]!.id, taskId: "review-pr", created: false }])
  })

  test("mixed tasks in /batch, each with its own options; an unknown task names its item", async () => {
    const { runs } = await client.runs.batchTrigger([
      { task: "review-pr", payload: { prNumber: 9 }, options: { tags: ["x"] } },
      { task: "mailer", options: { concurrencyKey: "org_2" } },
      { task: "synced", options: { retry: { maxAttempts: 1 } } },
    ])
    expect(runs.map((r) => r.taskId)).toEqual(["review-pr", "mailer", "synced"])
    expect(await loadRun(runs[0]!.id)).toMatchObject({ tags: ["x"], payload: { prNumber: 9 } })
    expect(await loadRun(runs[1]!.id)).toMatchObject({
      queue: "emails",
      concurrencyKey: "org_2",
      concurrencyLimit: 3,
    })
    expect(await loadRun(runs[2]!.id)).toMatchObject({ maxAttempts: 1 })
    const before = await runsNow()
    const error = await expectApiError(
      client.runs.batchTrigger([
        { task: "review-pr", payload: { prNumber: 1 } },
        { task: "ghost-task" },
        { task: "mailer", payload: { not: "allowed" } },
      ]),
    )
    expect(error.status).toBe(422)
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual([
      "items[1].task",
      "items[2].payload",
    ])
    expect(await runsNow()).toBe(before)
  })
})
