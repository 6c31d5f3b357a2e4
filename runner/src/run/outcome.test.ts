import { describe, expect, test } from "bun:test"
import { decideOutcome, retryDelayMs, runRetryPolicy, shouldRetry } from "./outcome.ts"

const exit0 = { exitCode: 0, oomKilled: false }

describe("decideOutcome", () => {
  test("an abort wins over whatever the task returned", () => {
    const o = decideOutcome({
      result: { ok: true, output: 1 },
      exit: exit0,
      abort: { reason: "timed_out", message: "maxDuration of 5s reached" },
      memory: "1Gi",
    })
    expect(o).toEqual({
      status: "timed_out",
      error: { name: "TimeoutError", message: "maxDuration of 5s reached" },
      retryable: false,
    })
    expect(
      decideOutcome({
        result: null,
        exit: { exitCode: 137, oomKilled: false },
        abort: { reason: "canceled", message: "canceled" },
        memory: "1Gi",
      }).status,
    ).toBe("canceled")
  })

  test("result, then OOM, then an unexplained exit", () => {
    expect(
      decideOutcome({
        result: { ok: true, output: { a: 1 } },
        exit: exit0,
        abort: null,
        memory: "",
      }),
    ).toEqual({ status: "succeeded", output: { a: 1 }, retryable: false })
    const bad = decideOutcome({
      result: {
        ok: false,
        error: { name: "PayloadValidationError", message: "x", retryable: false },
      },
      exit: exit0,
      abort: null,
      memory: "",
    })
    expect(bad.status).toBe("failed")
    expect(bad.retryable).toBe(false)
    const oom = decideOutcome({
      result: null,
      exit: { exitCode: 137, oomKilled: true },
      abort: null,
      memory: "128Mi",
    })
    expect(oom.status).toBe("failed")
    expect(oom.error?.name).toBe("OutOfMemoryError")
    expect(oom.error?.message).toContain("128Mi")
    const crash = decideOutcome({
      result: null,
      exit: { exitCode: 3, oomKilled: false },
      abort: null,
      memory: "",
    })
    expect(crash.status).toBe("crashed")
    expect(crash.error?.message).toContain("code 3")
  })
})

describe("retries", () => {
  test("backoff doubles per attempt within ±20%, capped", () => {
    const policy = { baseMs: 1_000, maxMs: 30_000 }
    expect(retryDelayMs(1, policy, 0.5)).toBe(1_000)
    expect(retryDelayMs(3, policy, 0.5)).toBe(4_000)
    expect(retryDelayMs(3, policy, 0)).toBe(3_200)
    expect(retryDelayMs(3, policy, 1)).toBe(4_800)
    expect(retryDelayMs(20, policy, 0.5)).toBe(30_000)
  })

  test("a run's own policy: factor, min and max delays, field by field over the defaults", () => {
    const defaults = { baseMs: 2_000, maxMs: 300_000 }
    expect(runRetryPolicy(defaults, null)).toEqual({ baseMs: 2_000, maxMs: 300_000, factor: 2 })
    const own = runRetryPolicy(defaults, { factor: 3, minDelayMs: 100, maxDelayMs: 1_000 })
    expect(own).toEqual({ baseMs: 100, maxMs: 1_000, factor: 3 })
    expect(retryDelayMs(1, own, 0.5)).toBe(100)
    expect(retryDelayMs(2, own, 0.5)).toBe(300)
    expect(retryDelayMs(3, own, 0.5)).toBe(900)
    expect(retryDelayMs(3, own, 1)).toBe(1_000)
    expect(retryDelayMs(9, own, 0)).toBe(800)
    // A minimum above the default cap raises the cap.
    expect(runRetryPolicy(defaults, { minDelayMs: 600_000 }).maxMs).toBe(600_000)
  })

  test("only retryable failures with attempts left", () => {
    const failed = { status: "failed" as const, retryable: true }
    expect(shouldRetry(failed, 1, 3)).toBe(true)
    expect(shouldRetry(failed, 3, 3)).toBe(false)
    expect(shouldRetry({ ...failed, retryable: false }, 1, 3)).toBe(false)
    expect(shouldRetry({ status: "timed_out", retryable: true }, 1, 3)).toBe(false)
  })
})
