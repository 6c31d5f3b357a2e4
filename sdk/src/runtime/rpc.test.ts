import { afterEach, describe, expect, test } from "bun:test"
import { OutsideRunError } from "./current-run.ts"
import type { CallMessage } from "./protocol.ts"
import {
  ConcurrentWaitError,
  callRuntime,
  insideRun,
  installRuntimeChannel,
  RuntimeCallError,
} from "./rpc.ts"
import { timers, waitDurationMs } from "./timers.ts"

const CHANNEL = Symbol.for("helmr.sdk.runtimeChannel")
afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[CHANNEL]
})

describe("outside a run", () => {
  test("module-level waits throw OutsideRunError naming the API", async () => {
    expect(insideRun()).toBe(false)
    const error = await timers.wait({ seconds: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OutsideRunError)
    expect((error as Error).message).toContain("timers.wait() can only be used inside a task run")
  })
})

describe("the runtime channel", () => {
  test("numbers calls in program order and settles them with replies", async () => {
    const sent: CallMessage[] = []
    const channel = installRuntimeChannel((m) => sent.push(m))
    expect(insideRun()).toBe(true)
    const a = callRuntime("tokens.create", "tokens.create", {})
    const b = callRuntime("runs.trigger", "runs.trigger", { task: "x" })
    expect(sent.map((m) => [m.id, m.method])).toEqual([
      [1, "tokens.create"],
      [2, "runs.trigger"],
    ])
    channel.onReply({ type: "reply", id: 2, ok: true, value: { id: "run_1" } })
    channel.onReply({
      type: "reply",
      id: 1,
      ok: false,
      error: { name: "RuntimeCallError", message: "no", data: { code: "not_found" } },
    })
    expect(await b).toEqual({ id: "run_1" })
    const error = await a.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RuntimeCallError)
    expect((error as RuntimeCallError).code).toBe("not_found")
    // A late or repeated reply is ignored.
    channel.onReply({ type: "reply", id: 2, ok: true, value: "again" })
  })

  test("one wait at a time; unanswered calls are sent again after a reattach", async () => {
    const sent: CallMessage[] = []
    const channel = installRuntimeChannel((m) => sent.push(m))
    const wait = callRuntime("timers.wait", "timers.wait", { ms: 10 })
    const second = await callRuntime("tokens.wait", "tokens.wait", { tokenId: "t" }).catch(
      (e: unknown) => e,
    )
    expect(second).toBeInstanceOf(ConcurrentWaitError)
    // Non-waiting calls still go while a wait is pending.
    void callRuntime("tokens.create", "tokens.create", {})
    channel.resendPending()
    expect(sent.map((m) => m.id)).toEqual([1, 2, 1, 2])
    channel.onReply({ type: "reply", id: 1, ok: true, value: null })
    expect(await wait).toBeNull()
  })
})

describe("waitDurationMs", () => {
  test.each([
    [{ seconds: 5 }, 5_000],
    [{ minutes: 1, seconds: 30 }, 90_000],
    [{ hours: 2 }, 7_200_000],
    [{ days: 1, hours: 1 }, 90_000_000],
    [{ seconds: 0.5 }, 500],
  ])("%j → %d ms", (duration, ms) => {
    expect(waitDurationMs(duration)).toBe(ms)
  })

  test.each([[{}], [{ seconds: -1 }], [{ minutes: Number.NaN }], [{ hours: "2" as never }]])(
    "%j is refused with the field named",
    (duration) => {
      expect(() => waitDurationMs(duration)).toThrow(RangeError)
    },
  )
})
