import type { RunStatus } from "@helmr/migrations/rows"
import type { RunRetryPolicy } from "@helmr/sdk/contract"
import type { AbortReason, SerializedError } from "@helmr/sdk/runtime/protocol"
import type { SandboxExit } from "../sandbox/driver.ts"

/**
 * How an attempt ended, from what the sandbox reported and how it exited, and whether the run is
 * tried again. Pure: the executor gathers the facts, this decides.
 */

export type FinalStatus = Extract<
  RunStatus,
  "succeeded" | "failed" | "canceled" | "timed_out" | "crashed"
>

export interface AttemptFacts {
  result: { ok: true; output: unknown } | { ok: false; error: SerializedError } | null
  exit: SandboxExit
  abort: { reason: AbortReason; message: string } | null
  memory: string
}

export interface AttemptOutcome {
  status: FinalStatus
  output?: unknown
  error?: SerializedError
  /** Another attempt may help (only meaningful for failed and crashed). */
  retryable: boolean
}

export function decideOutcome(facts: AttemptFacts): AttemptOutcome {
  if (facts.abort) {
    const name = facts.abort.reason === "timed_out" ? "TimeoutError" : "AbortError"
    return {
      status: facts.abort.reason,
      error: { name, message: facts.abort.message },
      retryable: false,
    }
  }
  if (facts.result?.ok)
    return { status: "succeeded", output: facts.result.output, retryable: false }
  if (facts.result && !facts.result.ok) {
    return {
      status: "failed",
      error: facts.result.error,
      retryable: facts.result.error.retryable !== false,
    }
  }
  if (facts.exit.oomKilled) {
    return {
      status: "failed",
      error: {
        name: "OutOfMemoryError",
        message: `the task ran out of memory (sandbox limit ${facts.memory}) and was killed`,
      },
      retryable: true,
    }
  }
  return {
    status: "crashed",
    error: {
      name: "SandboxExitError",
      message: `the task process exited with code ${facts.exit.exitCode ?? "unknown"} before returning`,
    },
    retryable: true,
  }
}

export interface RetryPolicy {
  baseMs: number
  maxMs: number
  /** Growth per attempt (default 2). */
  factor?: number
}

/**
 * The backoff of one run: its own (`runs.retry`, from the task's or the trigger's `retry`) field
 * by field over the runner's defaults. A `minDelay` above the default cap raises the cap.
 */
export function runRetryPolicy(defaults: RetryPolicy, run: RunRetryPolicy | null): RetryPolicy {
  const baseMs = run?.minDelayMs ?? defaults.baseMs
  return {
    baseMs,
    maxMs: run?.maxDelayMs ?? Math.max(defaults.maxMs, baseMs),
    factor: run?.factor ?? defaults.factor ?? 2,
  }
}

/**
 * Exponential backoff with ±20% jitter, never above the cap: attempt 1 waits ~base, then
 * base × factor, base × factor² … up to max.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random = Math.random()): number {
  const factor = policy.factor ?? 2
  const exponential = Math.min(policy.maxMs, policy.baseMs * factor ** Math.max(0, attempt - 1))
  return Math.min(policy.maxMs, Math.round(exponential * (0.8 + 0.4 * random)))
}

/** Whether a finished attempt is retried: a retryable failure with attempts left. */
export function shouldRetry(
  outcome: AttemptOutcome,
  attempt: number,
  maxAttempts: number,
): boolean {
  return (
    (outcome.status === "failed" || outcome.status === "crashed") &&
    outcome.retryable &&
    attempt < maxAttempts
  )
}
