import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { RunRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
} from "@helmr/migrations/testing"
import {
  putEntries,
  type SeededEnvironment,
  type SeededInstance,
  seedEnvironment,
  seedInstances,
} from "../testing/seed.ts"
import { fireLeases } from "./fire.ts"
import { leaseScheduleEntries } from "./schedule-leases.ts"
import { testDeps } from "./test-engine.ts"

// A fired run carries the flow control of its schedule's run options (queue, concurrency key,
// limit, retry), resolved over the task's declaration as a trigger's are.

let db: TestDatabase
let env: SeededEnvironment
let t: TestValkey
const T = Date.parse("2031-05-06T07:08:00Z")

beforeAll(async () => {
  db = await createTestDatabase("i11fire")
  t = createTestValkey("i11fire")
  env = await seedEnvironment(db.sql, { slug: "i11-fire", tasks: ["nightly"] })
})
afterAll(async () => {
  await t.cleanup()
  await db.drop()
})

describe("a fire with flow-control run options", () => {
  test("the run carries queue, key, limit, attempts and backoff", async () => {
    const now = T + 10
    const deps = testDeps(db.sql, t, { now: () => now })
    const [inst] = await seedInstances(db.sql, env, [
      {
        cron: "*/5 * * * *",
        nextFireAt: new Date(T),
        runOptions: {
          queue: { name: "reports", concurrencyLimit: 2 },
          concurrencyKey: "org_1",
          retry: { maxAttempts: 4, factor: 3, minDelay: "1s" },
        },
      },
    ])
    await putEntries(t.valkey, t.keys, [inst as SeededInstance])
    const leases = await leaseScheduleEntries(deps.valkey, deps.keys, {
      now: now + deps.settings.prefetchMs,
      leaseMs: deps.settings.leaseMs,
      limit: 10,
    })
    await fireLeases(deps, leases)
    const [run] = await db.sql<RunRow[]>`
      select * from runs where schedule_instance_id = ${inst?.instanceId ?? ""}`
    expect(run).toMatchObject({
      queue: "reports",
      concurrencyKey: "org_1",
      concurrencyLimit: 2,
      maxAttempts: 4,
      retry: { factor: 3, minDelayMs: 1000 },
    })
  })
})
