/**
 * The task logger. Records go to one sink held on `globalThis` (under a registered symbol), so the
 * runner's entry and the SDK copy inside a deployed bundle share it: the runner replaces the sink
 * once with `setLogSink`, and every `logger` call in task code reaches it.
 *
 * @example
 * ```ts
 * const level: LogLevel = "warn"
 * ```
 */

export type LogLevel = "debug" | "info" | "warn" | "error"

/**
 * One log call: `logger.info("reviewing", 42)` → `{ level: "info", message: "reviewing", args: [42] }`.
 *
 * @example
 * ```ts
 * setLogSink((record: LogRecord) => myTransport.send(record.level, record.message, record.args))
 * ```
 */
export interface LogRecord {
  level: LogLevel
  message: string
  /** The extra arguments, as passed (not yet serialised). */
  args: unknown[]
  time: Date
}

/**
 * Receives every record; must not throw.
 *
 * @example
 * ```ts
 * const toStderr: LogSink = (record) => console.error(formatLogRecord(record))
 * ```
 */
export type LogSink = (record: LogRecord) => void

const SINK = Symbol.for("helmr.sdk.logSink")

/**
 * Writes one JSON line a record to stdout: `{"time","level","message","args"}`.
 *
 * @example
 * ```ts
 * setLogSink(jsonLineSink) // the default, restored by setLogSink(null)
 * ```
 */
export const jsonLineSink: LogSink = (record) => {
  console.log(formatLogRecord(record))
}

/**
 * A record as one JSON line; errors keep name, message and stack; cycles become "[Circular]".
 *
 * @example
 * ```ts
 * formatLogRecord({ level: "info", message: "hi", args: [1], time: new Date(0) })
 * // {"time":"1970-01-01T00:00:00.000Z","level":"info","message":"hi","args":[1]}
 * ```
 */
export function formatLogRecord(record: LogRecord): string {
  const line: Record<string, unknown> = {
    time: record.time.toISOString(),
    level: record.level,
    message: record.message,
  }
  if (record.args.length > 0) line.args = record.args
  const seen = new WeakSet<object>()
  return JSON.stringify(line, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString()
    if (value instanceof Error)
      return { name: value.name, message: value.message, stack: value.stack }
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[Circular]"
      seen.add(value)
    }
    return value
  })
}

/**
 * Replaces where log records go (`null` restores the default JSON-lines-to-stdout sink). The
 * runner calls this inside the sandbox; tests can use it to capture logs.
 *
 * @example
 * ```ts
 * import { type LogRecord, setLogSink } from "@helmr/sdk"
 * const records: LogRecord[] = []
 * setLogSink((record) => records.push(record))
 * ```
 */
export function setLogSink(sink: LogSink | null): void {
  ;(globalThis as { [SINK]?: LogSink })[SINK] = sink ?? undefined
}

function emit(level: LogLevel, message: unknown, args: unknown[]): void {
  const sink = (globalThis as { [SINK]?: LogSink })[SINK] ?? jsonLineSink
  try {
    sink({ level, message: String(message), args, time: new Date() })
  } catch {
    // A failing sink must never fail the task that logged.
  }
}

/**
 * Structured logs of the current run: each call is one record with a level, a message and the
 * extra arguments. Inside a sandbox the runner stores them as run events; elsewhere they are
 * printed as JSON lines. Never log secrets.
 *
 * @example
 * ```ts
 * import { logger } from "@helmr/sdk"
 * logger.info("reviewing", payload.prNumber)
 * logger.warn("slow response", { ms: 1200 })
 * logger.error("failed", error)
 * ```
 */
export const logger = {
  /** @example logger.debug("cache hit", { key }) */
  debug: (message: string, ...args: unknown[]): void => emit("debug", message, args),
  /** @example logger.info("reviewing", payload.prNumber) */
  info: (message: string, ...args: unknown[]): void => emit("info", message, args),
  /** @example logger.warn("retrying", { attempt }) */
  warn: (message: string, ...args: unknown[]): void => emit("warn", message, args),
  /** @example logger.error("failed", error) */
  error: (message: string, ...args: unknown[]): void => emit("error", message, args),
}
