/**
 * The runner ⇄ sandbox protocol (version 1). Imports nothing: the in-sandbox runtime bundles it and
 * must start fast.
 *
 * - The runner starts `bun /helmr/runtime.js` with `HELMR_RUNTIME_NONCE` set and keeps the
 *   process's stdin open. It writes JSON lines: first one `start`, later at most one `abort`.
 *   Closing stdin means the runner is gone: the runtime aborts the task and exits.
 * - The runtime answers on stdout with framed lines: `FRAME_PREFIX + nonce + " " + JSON + "\n"`.
 *   Anything else on stdout or stderr is plain task output (recorded as log lines). The nonce keeps
 *   a task's own output from being mistaken for a protocol message by accident.
 * - Order: `ready` (runtime loaded) → `started` (the task's `run` is called) → any number of `log`
 *   → exactly one `result`, then the process exits 0.
 */

export const PROTOCOL_VERSION = 1

/** Start of a framed line; the nonce and a space follow, then the JSON message. */
export const FRAME_PREFIX = "\u001ehelmr:"

/** Environment variable carrying the nonce of the frames. */
export const NONCE_ENV = "HELMR_RUNTIME_NONCE"

/** Exit code of a runtime whose runner went away (stdin closed) before the task finished. */
export const EXIT_RUNNER_LOST = 70

export type AbortReason = "canceled" | "timed_out"

/** runner → sandbox, first line on stdin. */
export interface StartMessage {
  type: "start"
  protocol: number
  run: { id: string; attempt: number }
  task: { id: string; exportName: string; kind: "task" | "scheduled" }
  session: { id: string }
  /** Absolute path of the workspace (the process's working directory). */
  workspace: string
  /** Absolute path of the bundle's entry module. */
  entry: string
  payload: unknown
}

/** runner → sandbox: abort `ctx.signal`; the runner kills the sandbox after its grace period. */
export interface AbortMessage {
  type: "abort"
  reason: AbortReason
  message: string
}

export type RunnerMessage = StartMessage | AbortMessage

export type LogLevel = "debug" | "info" | "warn" | "error"

/** An error that crossed the sandbox boundary; one shape everywhere (run.error, events). */
export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** false: retrying cannot help (bad payload, unknown task, `NonRetriableError`). */
  retryable?: boolean
  data?: unknown
}

export type SandboxMessage =
  | { type: "ready"; protocol: number; at: number }
  | { type: "started"; at: number }
  | { type: "log"; level: LogLevel; message: string; data?: unknown; at: number }
  | { type: "result"; ok: true; output: unknown }
  | { type: "result"; ok: false; error: SerializedError }

/** Frames one message for stdout. */
export function frameMessage(nonce: string, message: SandboxMessage): string {
  return `${FRAME_PREFIX}${nonce} ${JSON.stringify(message)}\n`
}

/**
 * Reads a line of sandbox stdout: the message's JSON text when the line is a frame with this
 * nonce, else null (plain output).
 */
export function unframeLine(nonce: string, line: string): string | null {
  const head = `${FRAME_PREFIX}${nonce} `
  return line.startsWith(head) ? line.slice(head.length) : null
}

/** Turns anything thrown into the one serialised error shape. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name || "Error", message: error.message }
    if (error.stack) out.stack = error.stack
    if (error.name === "NonRetriableError") out.retryable = false
    return out
  }
  if (typeof error === "object" && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown }
    if (typeof message === "string")
      return { name: typeof name === "string" ? name : "Error", message }
  }
  let text: string
  try {
    text = typeof error === "string" ? error : JSON.stringify(error)
  } catch {
    text = String(error)
  }
  return { name: "Error", message: `non-error thrown: ${text}` }
}
