import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "../testing.ts"
import { dequeueRuns, enqueueRuns, leaseRunBatch, parseRunWake } from "./run-queue.ts"

const t = createTestValkey("runqueue")
afterAll(() => t.cleanup())

/** Collects the messages on the wake channel while `act` runs. */
async function wakeUps(act: () => Promise<unknown>): Promise<string[]> {
  const sub = t.valkey.duplicate()
  const got: string[] = []
  sub.on("message", (_channel: string, message: string) => got.push(message))
  await sub.subscribe(t.keys.runWake)
  await act()
  // A PING after the publish: its answer comes after every message published before it.
  await sub.ping()
  sub.disconnect()
  return got
}

describe("run queue wake-ups", () => {
  test("an enqueue publishes the earliest score it wrote, in the same call", async () => {
    const got = await wakeUps(() =>
      enqueueRuns(t.valkey, t.keys, [
        { id: "run_w1", availableAt: new Date(5_000) },
        { id: "run_w2", availableAt: new Date(3_000) },
      ]),
    )
    expect(got).toEqual(["3000"])
    expect(parseRunWake(got[0] ?? "")).toBe(3_000)
    expect(parseRunWake("nonsense")).toBeNull()
    expect(await t.valkey.zscore(t.keys.runQueue, "run_w2")).toBe("3000")
  })

  test("a large enqueue (more pairs than one ZADD takes) adds or rescores every run and counts each", async () => {
    const runs = Array.from({ length: 1_203 }, (_, i) => ({
      id: `run_big${i}`,
      // The earliest is in the last chunk; one run already queued is rescored.
      availableAt: new Date(i === 1_200 ? 9_000 : 20_000 + i),
    }))
    await t.valkey.zadd(t.keys.runQueue, 1, "run_big5")
    let added = 0
    const got = await wakeUps(async () => {
      added = await enqueueRuns(t.valkey, t.keys, runs)
    })
    expect(added).toBe(1_203)
    expect(got).toEqual(["9000"])
    const scores = await t.valkey.zmscore(t.keys.runQueue, ...runs.map((r) => r.id))
    expect(scores.map(Number)).toEqual(runs.map((r) => r.availableAt.getTime()))
    await t.valkey.zrem(t.keys.runQueue, ...runs.map((r) => r.id))
  })

  test("onlyMissing (repair) keeps existing scores and wakes only for what it added", async () => {
    const got = await wakeUps(async () => {
      expect(
        await enqueueRuns(t.valkey, t.keys, [{ id: "run_w1", availableAt: new Date(1) }], {
          onlyMissing: true,
        }),
      ).toBe(0)
      expect(
        await enqueueRuns(
          t.valkey,
          t.keys,
          [
            { id: "run_w1", availableAt: new Date(1) },
            { id: "run_w3", availableAt: new Date(7_000) },
          ],
          { onlyMissing: true },
        ),
      ).toBe(1)
    })
    expect(got).toEqual(["7000"])
    expect(await t.valkey.zscore(t.keys.runQueue, "run_w1")).toBe("5000")
  })

  test("a lease answers when the next run comes due (null when the queue is empty)", async () => {
    const first = await leaseRunBatch(t.valkey, t.keys, { now: 4_000, leaseMs: 60_000, limit: 10 })
    expect(first).toEqual({ runIds: ["run_w2"], nextDueAt: 5_000 })
    const none = await leaseRunBatch(t.valkey, t.keys, { now: 4_500, leaseMs: 60_000, limit: 10 })
    expect(none).toEqual({ runIds: [], nextDueAt: 5_000 })
    await dequeueRuns(t.valkey, t.keys, ["run_w1", "run_w2", "run_w3"])
    expect(await leaseRunBatch(t.valkey, t.keys, { now: 4_500, leaseMs: 1, limit: 10 })).toEqual({
      runIds: [],
      nextDueAt: null,
    })
  })
})
