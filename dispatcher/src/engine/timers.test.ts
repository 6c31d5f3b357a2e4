import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { newId } from "@helmr/migrations/ids"
import { insertRun } from "@helmr/migrations/queries/runs"
import type { RunRow, WaitpointRow } from "@helmr/migrations/rows"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  walkRun,
} from "@helmr/migrations/testing"
import { enqueueRun, putTimer } from "@helmr/migrations/valkey"
import { waitFor } from "../testing/processes.ts"
import { type SeededEnvironment, seedEnvironment } from "../testing/seed.ts"
import { testDeps } from "./test-engine.ts"
import { runTimerLoop } from "./timers.ts"

let db: TestDatabase
const t = createTestValkey("i5timers")
let env: SeededEnvironment

beforeAll(async () => {
  db = await createTestDatabase("i5timers")
  env = await seedEnvironment(db.sql, { slug: "i5-timers" })
})
afterAll(async () => {
  await t.cleanup()
  await db.drop()
})

async function waitingRun(resumeAt: Date): Promise<{ runId: string; waitpointId: string }> {
  const { run } = await insertRun(db.sql, {
    environmentId: env.environmentId,
    deploymentId: env.deploymentId,
    taskId: "nightly",
    payload: null,
  })
  await walkRun(db.sql, run.id, ["starting", "running", "waiting"])
  const waitpointId = newId("wp")
  await db.sql`insert into waitpoints (id, environment_id, run_id, kind, resume_at)
    values (${waitpointId}, ${env.environmentId}, ${run.id}, 'timer', ${resumeAt})`
  return { runId: run.id, waitpointId }
}

const runOf = async (id: string) => (await db.sql<RunRow[]>`select * from runs where id = ${id}`)[0]
const waitpointOf = async (id: string) =>
  (await db.sql<WaitpointRow[]>`select * from waitpoints where id = ${id}`)[0]

describe("timers", () => {
  test("timed waits resume their run, expired runs expire, both from Postgres and Valkey", async () => {
    const now = Date.now()
    // Found by the Postgres sweep alone (nobody put a timer in Valkey).
    const swept = await waitingRun(new Date(now - 1_000))
    // Put in Valkey by its writer, due shortly: acted on at its time, well before the next sweep.
    const timed = await waitingRun(new Date(now + 1_500))
    await putTimer(t.valkey, t.keys, "wait", timed.waitpointId, new Date(now + 1_500))
    // Not due for an hour: left alone.
    const later = await waitingRun(new Date(now + 3_600_000))
    // A run that is no longer waiting (canceled): its wait completes, the run is not touched.
    const canceled = await waitingRun(new Date(now - 1_000))
    await walkRun(db.sql, canceled.runId, ["canceled"])
    const base = {
      environmentId: env.environmentId,
      deploymentId: env.deploymentId,
      taskId: "nightly",
      payload: null,
    }
    const stale = await insertRun(db.sql, { ...base, expiresAt: new Date(now - 1) })
    await enqueueRun(t.valkey, t.keys, stale.run.id)
    const fresh = await insertRun(db.sql, { ...base, expiresAt: new Date(now + 3_600_000) })

    const deps = testDeps(db.sql, t, { settings: { timerPollMs: 60_000, leaseMs: 5_000 } })
    const controller = new AbortController()
    const loop = runTimerLoop(deps, controller.signal)
    try {
      await waitFor(async () => (await runOf(timed.runId))?.status === "queued", {
        timeoutMs: 20_000,
        describe: async () => JSON.stringify(await runOf(timed.runId)),
      })
    } finally {
      controller.abort()
      await loop
    }
    for (const { runId, waitpointId } of [swept, timed]) {
      expect(await runOf(runId)).toMatchObject({ status: "queued" })
      expect(await waitpointOf(waitpointId)).toMatchObject({ status: "completed" })
      expect(await t.valkey.zscore(t.keys.runQueue, runId)).not.toBeNull()
      const events = await db.sql`select data from run_events where run_id = ${runId} order by id`
      expect(events.at(-1)?.data).toEqual({
        from: "waiting",
        to: "queued",
        reason: "timer",
        waitpointId,
      })
    }
    expect(await runOf(later.runId)).toMatchObject({ status: "waiting" })
    expect(await waitpointOf(later.waitpointId)).toMatchObject({ status: "pending" })
    expect(await runOf(canceled.runId)).toMatchObject({ status: "canceled" })
    expect(await waitpointOf(canceled.waitpointId)).toMatchObject({ status: "completed" })
    expect(await runOf(stale.run.id)).toMatchObject({
      status: "expired",
      error: { name: "RunExpired", message: "the run's ttl passed before it started" },
    })
    expect(await t.valkey.zscore(t.keys.runQueue, stale.run.id)).toBeNull()
    expect(await runOf(fresh.run.id)).toMatchObject({ status: "queued" })
    // The Valkey timer was removed once handled.
    expect(await t.valkey.zcard(t.keys.timers)).toBe(0)
    expect(deps.metrics.timers.get({ kind: "wait_resumed" })).toBe(2)
    expect(deps.metrics.timers.get({ kind: "run_expired" })).toBe(1)
  }, 40_000)
})
