/**
 * The runner ⇄ sandbox protocol (version 1). Imports nothing: the in-sandbox runtime bundles it and
 * must start fast.
 *
 * - The runner starts `bun /helmr/runtime.js` with `HELMR_RUNTIME_NONCE` set and keeps the
 *   process's stdin open. It writes JSON lines: first one `start`, later at most one `abort`.
 *   A warm (pre-started) sandbox may get `ping`s before its `start`; it holds no secret and no
 *   run identity until `start` brings them.
 *   Closing stdin means the runner is gone: the runtime aborts the task and exits.
 * - The runtime answers on stdout with framed lines: `FRAME_PREFIX + nonce + " " + JSON + "\n"`.
 *   Anything else on stdout or stderr is plain task output (recorded as log lines). The nonce keeps
 *   a task's own output from being mistaken for a protocol message by accident.
 * - Order: `ready` (runtime loaded) → `started` (the task's `run` is called) → any number of `log`,
 *   `metadata`, `stream` and `call` → exactly one `result`, then the process exits 0. Pending
 *   `metadata` and `stream` frames are always sent before the `result`.
 * - Calls (rpc.ts): the runtime sends `call` `{ id, method, params }` (timers, tokens, the runtime
 *   client); the runner answers each with one `reply` `{ id, ok, value | error }`. `id` counts the
 *   run's calls from 1 in program order, so the runner keys what a call creates by
 *   `run:<run id>:<id>`: a call sent twice (after `reattach`) or made again by a retried attempt
 *   finds what the first one made. After a new runner process adopted a living sandbox it sends
 *   `reattach`, and the runtime sends every unanswered call again.
 */

/**
 * Version of this protocol, sent in `start` and `ready`.
 *
 * @example
 * ```ts
 * if (ready.protocol !== PROTOCOL_VERSION) throw new Error("runtime and runner disagree")
 * ```
 */
export const PROTOCOL_VERSION = 1

/**
 * Start of a framed line; the nonce and a space follow, then the JSON message.
 *
 * @example
 * ```ts
 * line.startsWith(`${FRAME_PREFIX}${nonce} `) // a protocol message, not task output
 * ```
 */
export const FRAME_PREFIX = "\u001ehelmr:"

/**
 * Environment variable carrying the nonce of the frames.
 *
 * @example
 * ```ts
 * const nonce = process.env[NONCE_ENV] ?? ""
 * ```
 */
export const NONCE_ENV = "HELMR_RUNTIME_NONCE"

/**
 * Environment variable set on a pre-started (warm) sandbox: while no `start` came, the runtime
 * exits 70 when it heard no `ping` for this many milliseconds (its runner died). A warm sandbox
 * holds no secret and no run identity: both come with `start`.
 *
 * @example
 * ```ts
 * const waitMs = Number(process.env[WARM_ORPHAN_ENV] ?? 0)
 * ```
 */
export const WARM_ORPHAN_ENV = "HELMR_RUNTIME_WARM_ORPHAN_MS"

/**
 * Exit code of a runtime whose runner went away (stdin closed) before the task finished.
 *
 * @example
 * ```ts
 * if (exit.exitCode === EXIT_RUNNER_LOST) console.log("the runner had gone")
 * ```
 */
export const EXIT_RUNNER_LOST = 70

/**
 * Why `ctx.signal` aborts.
 *
 * @example
 * ```ts
 * const reason: AbortReason = "timed_out"
 * ```
 */
export type AbortReason = "canceled" | "timed_out"

/**
 * runner → sandbox, first line on stdin.
 *
 * @example
 * ```ts
 * const start: StartMessage = { type: "start", protocol: 1, run: { id: "run_…", attempt: 1 },
 *   task: { id: "review-pr", exportName: "reviewPr", kind: "task" }, session: { id: "sess_…" },
 *   workspace: "/workspace", entry: "/helmr/app/index.js", payload: { prNumber: 7 } }
 * ```
 */
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
  /**
   * Variables set in `process.env` before the bundle is imported: the task's declared secrets.
   * They travel here, never in the container's environment, so `docker inspect` shows none.
   */
  env?: Record<string, string>
  /** The run's metadata as stored (kept across attempts); absent means `{}`. */
  metadata?: Record<string, unknown>
  /**
   * With Docker a task survives its runner (stdin stays open). A runtime that hears nothing from
   * its runner (`ping` comes every few seconds) for this long while it is not waiting gives up:
   * it aborts `ctx.signal` and exits 70. A waiting runtime never does: a restarted runner adopts it.
   */
  orphanAfterMs?: number
}

/**
 * runner → sandbox: abort `ctx.signal`; the runner kills the sandbox after its grace period.
 *
 * @example
 * ```ts
 * sandbox.send({ type: "abort", reason: "canceled", message: "the run was canceled" })
 * ```
 */
export interface AbortMessage {
  type: "abort"
  reason: AbortReason
  message: string
}

/**
 * runner → sandbox: the answer to the `call` with the same id.
 *
 * @example
 * ```ts
 * sandbox.send({ type: "reply", id: 3, ok: true, value: { id: "tok_…", url: "…" } })
 * ```
 */
export type ReplyMessage =
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: SerializedError }

/**
 * runner → sandbox: a new runner process took the sandbox over; send unanswered calls again.
 *
 * @example
 * ```ts
 * sandbox.send({ type: "reattach" })
 * ```
 */
export interface ReattachMessage {
  type: "reattach"
}

/**
 * runner → sandbox: the runner is still there (see `StartMessage.orphanAfterMs`).
 *
 * @example
 * ```ts
 * sandbox.send({ type: "ping" })
 * ```
 */
export interface PingMessage {
  type: "ping"
}

/**
 * Any runner → sandbox line.
 *
 * @example
 * ```ts
 * const message: RunnerMessage = { type: "abort", reason: "timed_out", message: "maxDuration" }
 * ```
 */
export type RunnerMessage =
  | StartMessage
  | AbortMessage
  | ReplyMessage
  | ReattachMessage
  | PingMessage

/**
 * Level of a log record.
 *
 * @example
 * ```ts
 * const level: LogLevel = "warn"
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error"

/**
 * An error that crossed the sandbox boundary; one shape everywhere (run.error, events).
 *
 * @example
 * ```ts
 * const error: SerializedError = { name: "TypeError", message: "x is undefined", stack: "…" }
 * ```
 */
export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** false: retrying cannot help (bad payload, unknown task, `NonRetriableError`). */
  retryable?: boolean
  data?: unknown
}

/**
 * Any sandbox → runner frame.
 *
 * @example
 * ```ts
 * const done: SandboxMessage = { type: "result", ok: true, output: { ok: true } }
 * ```
 */
export type SandboxMessage =
  | { type: "ready"; protocol: number; at: number }
  | { type: "started"; at: number }
  | { type: "log"; level: LogLevel; message: string; data?: unknown; at: number }
  | CallMessage
  | { type: "result"; ok: true; output: unknown }
  | { type: "result"; ok: false; error: SerializedError }
  | MetadataMessage
  | StreamMessage

/**
 * sandbox → runner: the run's whole metadata after a change (sent at most every 100 ms and before
 * the result); the runner stores the latest one.
 *
 * @example
 * ```ts
 * const m: MetadataMessage = { type: "metadata", metadata: { progress: 0.5 } }
 * ```
 */
export interface MetadataMessage {
  type: "metadata"
  metadata: Record<string, unknown>
}

/**
 * sandbox → runner: chunks appended to one stream of the session, in order, each as JSON text.
 * The runner gives them the next offsets and inserts them in one statement.
 *
 * @example
 * ```ts
 * const m: StreamMessage = { type: "stream", name: "tokens", chunks: ['"Hel"', '"lo"'] }
 * ```
 */
export interface StreamMessage {
  type: "stream"
  name: string
  chunks: string[]
}

/**
 * sandbox → runner: a runtime call (`method` names one of the contract's `RUNTIME_CALLS`).
 *
 * @example
 * ```ts
 * const call: CallMessage = { type: "call", id: 1, method: "timers.wait", params: { ms: 5000 } }
 * ```
 */
export interface CallMessage {
  type: "call"
  id: number
  method: string
  params: unknown
}

/**
 * Frames one message for stdout.
 *
 * @example
 * ```ts
 * process.stdout.write(frameMessage(nonce, { type: "started", at: Date.now() }))
 * ```
 */
export function frameMessage(nonce: string, message: SandboxMessage): string {
  return `${FRAME_PREFIX}${nonce} ${JSON.stringify(message)}\n`
}

/**
 * Reads a line of sandbox stdout: the message's JSON text when the line is a frame with this
 * nonce, else null (plain output).
 *
 * @example
 * ```ts
 * const json = unframeLine(nonce, line)
 * if (json === null) recordOutput(line)
 * ```
 */
export function unframeLine(nonce: string, line: string): string | null {
  const head = `${FRAME_PREFIX}${nonce} `
  return line.startsWith(head) ? line.slice(head.length) : null
}

/**
 * Errors that end a run without another attempt: `NonRetriableError` and `AbortTaskRunError` of
 * any copy of the SDK (marked by a registered symbol; the names also count, for errors made by
 * hand or by older bundles).
 */
function isNonRetriable(error: Error): boolean {
  return (
    (error as unknown as Record<symbol, unknown>)[Symbol.for("helmr.sdk.nonRetriable")] === true ||
    error.name === "NonRetriableError" ||
    error.name === "AbortTaskRunError"
  )
}

/**
 * Turns anything thrown into the one serialised error shape.
 *
 * @example
 * ```ts
 * serializeError(new TypeError("bad")) // { name: "TypeError", message: "bad", stack: "…" }
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name || "Error", message: error.message }
    if (error.stack) out.stack = error.stack
    if (isNonRetriable(error)) out.retryable = false
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
