import { setCurrentRun } from "./current-run.ts"
import { type LogRecord, setLogSink } from "./logger.ts"
import {
  EXIT_RUNNER_LOST,
  frameMessage,
  type LogLevel,
  NONCE_ENV,
  PROTOCOL_VERSION,
  type RunnerMessage,
  type SandboxMessage,
  type SerializedError,
  type StartMessage,
  serializeError,
  WARM_ORPHAN_ENV,
} from "./protocol.ts"
import { installRuntimeChannel } from "./rpc.ts"
import { createRunHost } from "./run-host.ts"

/**
 * The in-sandbox runtime: `bun runtime.js`, bundled by the runner into every sandbox. It reads the
 * start message from stdin, loads the deployment's bundle, finds the task by its export, validates
 * the payload again and calls `run(payload, ctx)`. See protocol.ts for the wire format.
 */

const nonce = process.env[NONCE_ENV] ?? ""
const rawWrite = process.stdout.write.bind(process.stdout)

function send(message: SandboxMessage): Promise<void> {
  return new Promise((resolve) => rawWrite(frameMessage(nonce, message), () => resolve()))
}

/*
 * Start-up cost is on the path of every cold start (bench/start): a bare `bun -e` is up in about
 * 10 ms, and this runtime took 40. In Bun, Node's `process.stdin` adds about 5 ms to the
 * `process.stdout` every message goes through (one stream with the task's own writes, so they
 * never land inside a message), and node:util about 10 ms: stdin is read through `Bun.stdin`, and
 * node:util is loaded once something is formatted.
 */
let util: typeof import("node:util") | undefined
const nodeUtil = () => {
  util ??= require("node:util") as typeof import("node:util")
  return util
}

function log(level: LogLevel, message: string, data?: unknown): void {
  const record: SandboxMessage = { type: "log", level, message, at: Date.now() }
  if (data !== undefined) record.data = toJsonSafe(data)
  void send(record)
}

function toJsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value))
  } catch {
    return nodeUtil().formatWithOptions({ depth: 4 }, "%O", value)
  }
}

/** `console.*` becomes log records with a level; raw stdout/stderr writes stay plain output. */
function captureConsole(): void {
  const levels: [keyof Console, LogLevel][] = [
    ["debug", "debug"],
    ["log", "info"],
    ["info", "info"],
    ["warn", "warn"],
    ["error", "error"],
  ]
  for (const [method, level] of levels) {
    Object.defineProperty(console, method, {
      value: (...args: unknown[]) =>
        log(level, nodeUtil().formatWithOptions({ colors: false }, ...args)),
      configurable: true,
      writable: true,
    })
  }
  // The SDK's `logger` (the bundle's own copy) finds this sink through a registered symbol.
  setLogSink((record: LogRecord) => {
    const text = nodeUtil().formatWithOptions({ colors: false }, record.message, ...record.args)
    log(record.level, text, record.args.length > 0 ? { args: record.args } : undefined)
  })
}

/** Lines of stdin, as parsed JSON messages, then null at end of input. */
async function* readMessages(): AsyncGenerator<unknown> {
  const decoder = new TextDecoder()
  let buffer = ""
  const stdin = Bun.stdin.stream().getReader()
  for (;;) {
    const { value: chunk, done } = await stdin.read()
    if (done) return
    buffer += decoder.decode(chunk, { stream: true })
    let newline = buffer.indexOf("\n")
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (line) yield JSON.parse(line)
      newline = buffer.indexOf("\n")
    }
  }
}

interface TaskLike {
  id: string
  payload?: { safeParse(value: unknown): { success: boolean; data?: unknown; error?: unknown } }
  run(payload: unknown, ctx: unknown): unknown
}

function isTask(value: unknown): value is TaskLike {
  const v = value as Partial<TaskLike> | null
  return typeof v === "object" && v !== null && typeof v.run === "function"
}

function failure(name: string, message: string, extra: Partial<SerializedError> = {}) {
  return { type: "result", ok: false, error: { name, message, ...extra } } as const
}

async function runTask(start: StartMessage, signal: AbortSignal): Promise<SandboxMessage> {
  // Secrets arrive with the assignment, before any task code (module scope included) runs.
  if (start.env) Object.assign(process.env, start.env)
  let mod: Record<string, unknown>
  try {
    mod = await import(start.entry)
  } catch (error) {
    const e = serializeError(error)
    return failure("ModuleLoadError", `loading the bundle failed: ${e.name}: ${e.message}`, {
      ...(e.stack ? { stack: e.stack } : {}),
    })
  }
  const task = mod[start.task.exportName]
  if (!isTask(task)) {
    return failure(
      "TaskNotFoundError",
      `the bundle has no task exported as ${start.task.exportName} (task ${start.task.id})`,
      { retryable: false },
    )
  }
  let payload = start.payload
  if (start.task.kind === "scheduled") {
    // Generated at fire time with ISO strings; the task receives Dates. Loaded only when needed.
    const { ScheduledTaskPayload } = await import("../contract/scheduled-payload.ts")
    const parsed = ScheduledTaskPayload.safeParse(start.payload)
    if (!parsed.success) {
      return failure("PayloadValidationError", `invalid schedule payload for ${start.task.id}`, {
        retryable: false,
        data: toJsonSafe(parsed.error),
      })
    }
    payload = parsed.data
  } else if (task.payload) {
    const parsed = task.payload.safeParse(start.payload)
    if (!parsed.success) {
      return failure("PayloadValidationError", `payload does not match task ${start.task.id}`, {
        retryable: false,
        data: toJsonSafe(parsed.error),
      })
    }
    payload = parsed.data
  } else if (start.payload !== null && start.payload !== undefined) {
    return failure("PayloadValidationError", `task ${start.task.id} takes no payload`, {
      retryable: false,
    })
  }
  const ctx = Object.freeze({
    signal,
    run: Object.freeze({ id: start.run.id }),
    task: Object.freeze({ id: start.task.id }),
    workspace: start.workspace,
    session: Object.freeze({ id: start.session.id }),
  })
  // metadata and streams reach the runner through this host; it is flushed before the result.
  const durable = createRunHost(start, send)
  setCurrentRun(durable.host)
  await send({ type: "started", at: Date.now() })
  try {
    const output = await task.run(payload, ctx)
    const text = JSON.stringify(output === undefined ? null : output)
    return { type: "result", ok: true, output: JSON.parse(text) }
  } catch (error) {
    return { type: "result", ok: false, error: serializeError(error) }
  } finally {
    await durable.flush()
  }
}

function abortReason(message: Extract<RunnerMessage, { type: "abort" }>): DOMException {
  return new DOMException(
    message.message,
    message.reason === "timed_out" ? "TimeoutError" : "AbortError",
  )
}

/**
 * The first `start` on stdin; null when stdin ended first. A warm sandbox waits here for its
 * assignment and gives up when its runner stopped pinging (WARM_ORPHAN_ENV).
 */
async function awaitStart(messages: AsyncGenerator<unknown>): Promise<StartMessage | null> {
  const orphanMs = Number(process.env[WARM_ORPHAN_ENV] ?? 0)
  let lastHeard = Date.now()
  const watch =
    orphanMs > 0
      ? setInterval(() => {
          if (Date.now() - lastHeard > orphanMs) process.exit(EXIT_RUNNER_LOST)
        }, 1_000)
      : undefined
  try {
    for (;;) {
      const next = await messages.next()
      if (next.done) return null
      lastHeard = Date.now()
      const message = next.value as RunnerMessage
      if (message.type === "start") return message
    }
  } finally {
    clearInterval(watch)
  }
}

async function main(): Promise<void> {
  captureConsole()
  await send({ type: "ready", protocol: PROTOCOL_VERSION, at: Date.now() })
  const controller = new AbortController()
  const messages = readMessages()
  const start = await awaitStart(messages)
  if (!start) process.exit(EXIT_RUNNER_LOST)
  const channel = installRuntimeChannel((call) => void send(call))
  let lastHeard = Date.now()
  const orphanAfterMs = start.orphanAfterMs
  if (orphanAfterMs) {
    let lastTick = Date.now()
    setInterval(() => {
      const now = Date.now()
      // After the event loop was blocked (synchronous task code) pings may be unread: no verdict.
      if (now - lastTick > 3_000) lastHeard = now
      lastTick = now
      if (channel.waiting() || now - lastHeard < orphanAfterMs) return
      controller.abort(new DOMException("the runner went away", "AbortError"))
      setTimeout(() => process.exit(EXIT_RUNNER_LOST), 2_000).unref()
    }, 1_000).unref()
  }
  // Control messages keep arriving while the task runs.
  void (async () => {
    for await (const message of messages) {
      lastHeard = Date.now()
      const m = message as RunnerMessage
      if (m.type === "abort") controller.abort(abortReason(m))
      else if (m.type === "reply") channel.onReply(m)
      else if (m.type === "reattach") channel.resendPending()
    }
    channel.failPending(new Error("the runner went away"))
    controller.abort(new DOMException("the runner went away", "AbortError"))
    setTimeout(() => process.exit(EXIT_RUNNER_LOST), 2_000).unref()
  })().catch(() => process.exit(EXIT_RUNNER_LOST))
  const result = await runTask(start, controller.signal)
  await send(result)
  process.exit(0)
}

await main().catch(async (error: unknown) => {
  await send({ type: "result", ok: false, error: serializeError(error) })
  process.exit(1)
})
