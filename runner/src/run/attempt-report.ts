import type { CallMessage, SerializedError } from "@helmr/sdk/runtime/protocol"
import { ImageBuildError } from "../build/build-image.ts"
import type { OutputStream } from "../sandbox/driver.ts"
import { parseSandboxLine } from "../sandbox/messages.ts"
import type { DurableSinks } from "./durable-sinks.ts"
import type { EventLog } from "./event-log.ts"
import { type AttemptFacts, type AttemptOutcome, decideOutcome } from "./outcome.ts"
import { RunSetupError } from "./run-plan.ts"

/** What an attempt learns from its sandbox, and how its end is judged. */

export type AbortKind = "canceled" | "timed_out" | "interrupted"

export interface AttemptReport {
  abort: { kind: AbortKind; message: string } | null
  result: AttemptFacts["result"]
  /** When (runner clock) the runtime printed `ready`; null before. */
  readyAt: number | null
  /** The runtime printed `started`: the task's `run` was called. */
  started: boolean
  /** Why the attempt was given up as lost before its task started (the start watchdog). */
  stalled: string | null
}

/** An attempt that failed before its task ran: deployment, secrets, image build, Docker. */
export function setupOutcome(error: unknown): AttemptOutcome {
  if (error instanceof RunSetupError) {
    const e: SerializedError = { name: error.name, message: error.message, retryable: false }
    if (error.data) e.data = error.data
    return { status: "failed", error: e, retryable: false }
  }
  if (error instanceof ImageBuildError) {
    return {
      status: "failed",
      error: { name: error.name, message: error.message, data: error.details },
      retryable: true,
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return {
    status: "crashed",
    error: { name: "RunnerError", message: `the runner could not run the task: ${message}` },
    retryable: true,
  }
}

/**
 * Handles the sandbox's output lines: protocol frames become events or the result, anything else
 * is a log line (stderr at level error).
 */
export function onSandboxOutput(
  events: EventLog,
  state: AttemptReport,
  nonce: string,
  attempt: number,
  onCall: (call: CallMessage) => void,
  durable?: DurableSinks,
) {
  return (stream: OutputStream, line: string) => {
    const message = stream === "stdout" ? parseSandboxLine(nonce, line) : null
    if (!message) {
      events.add({
        type: "log",
        level: stream === "stderr" ? "error" : "info",
        message: line,
        data: { stream, attempt },
      })
      return
    }
    switch (message.type) {
      case "ready":
        state.readyAt = Date.now()
        return
      case "started":
        state.started = true
        events.add({ type: "started", data: { attempt, at: message.at } })
        return
      case "log": {
        const extra = message.data
        const fields =
          extra && typeof extra === "object" && !Array.isArray(extra)
            ? (extra as Record<string, unknown>)
            : extra === undefined
              ? {}
              : { data: extra }
        events.add({
          type: "log",
          level: message.level,
          message: message.message,
          data: { ...fields, attempt },
        })
        return
      }
      case "call":
        onCall(message)
        return
      case "result":
        state.result = message.ok
          ? { ok: true, output: message.output }
          : { ok: false, error: message.error }
        return
      case "metadata":
      case "stream":
        durable?.handle(message)
        return
      default:
        return message satisfies never
    }
  }
}

/** The attempt's outcome; a runner shutdown is not the task's doing and is retried. */
export function outcomeOf(
  state: AttemptReport,
  facts: Omit<AttemptFacts, "abort">,
): AttemptOutcome {
  const abort = state.abort
  if (state.stalled && !abort && !facts.result) {
    // Killed by the start watchdog: lost like an attempt whose runner died, retried if it may be.
    return {
      status: "crashed",
      error: { name: "StartTimeoutError", message: state.stalled },
      retryable: true,
    }
  }
  if (abort?.kind === "interrupted") {
    // A shutdown is not the task's doing: keep a result it managed to return, else retry.
    const outcome = decideOutcome({ ...facts, abort: null })
    return outcome.status === "succeeded"
      ? outcome
      : {
          status: "crashed",
          error: { name: "RunnerShutdownError", message: abort.message },
          retryable: true,
        }
  }
  return decideOutcome({
    ...facts,
    abort: abort
      ? { reason: abort.kind === "timed_out" ? "timed_out" : "canceled", message: abort.message }
      : null,
  })
}
