import { OutsideRunError } from "./current-run.ts"
import type { CallMessage, ReplyMessage, SerializedError } from "./protocol.ts"

/**
 * The runtime channel: request/response calls from task code to its runner over the sandbox's
 * stdin/stdout frames (protocol.ts). The sandbox has no API key and no route to the API; the
 * runner acts for the run's environment. The channel lives on `globalThis` under a registered
 * symbol, like the log sink, because a deployed bundle carries its own copy of the SDK: the
 * runtime's entry installs it, the bundle's `timers`, `tokens`, `runs` and `schedules` find it.
 */

const CHANNEL = Symbol.for("helmr.sdk.runtimeChannel")

/** Methods that suspend the run; kept here too because this file must import nothing heavy. */
const WAITING = new Set(["timers.wait", "tokens.wait", "runs.triggerAndWait"])

/**
 * What the runtime offers task code: one call, answered by the runner.
 *
 * @example
 * ```ts
 * const value = await channel.call("tokens.create", { timeout: "1h" })
 * ```
 */
export interface RuntimeChannel {
  call(method: string, params: unknown): Promise<unknown>
}

/**
 * A call the runner refused or could not do; `code` mirrors the HTTP API's error codes
 * (`validation_failed`, `not_found`, `conflict`…) and `details` names the failing fields.
 *
 * @example
 * ```ts
 * try { await runs.trigger("nope") } catch (e) { if (e instanceof RuntimeCallError) e.code }
 * ```
 */
export class RuntimeCallError extends Error {
  override readonly name: string
  readonly code: string
  readonly details: unknown
  constructor(error: SerializedError) {
    super(error.message)
    const data = (error.data ?? {}) as { code?: unknown; details?: unknown }
    this.name = error.name || "RuntimeCallError"
    this.code = typeof data.code === "string" ? data.code : "error"
    this.details = data.details
  }
}

/**
 * A second wait started while one is in progress (e.g. `Promise.all` of two waits): a run waits
 * for one thing at a time, because a waiting run gives its runner slot away.
 *
 * @example
 * ```ts
 * await timers.wait({ seconds: 5 }); await tokens.wait(token) // one after the other
 * ```
 */
export class ConcurrentWaitError extends Error {
  override readonly name = "ConcurrentWaitError"
  constructor(method: string, pending: string) {
    super(
      `${method} was called while ${pending} is still waiting: a run waits for one thing at a time; await each wait before starting the next`,
    )
  }
}

/**
 * Whether this code runs inside a Helmr run (the runtime installed its channel).
 *
 * @example
 * ```ts
 * if (insideRun()) logger.info("in a sandbox")
 * ```
 */
export function insideRun(): boolean {
  return (globalThis as { [CHANNEL]?: RuntimeChannel })[CHANNEL] !== undefined
}

/**
 * Calls the runner from task code; throws OutsideRunError outside a run.
 *
 * @example
 * ```ts
 * await callRuntime("timers.wait", "timers.wait", { ms: 1000 })
 * ```
 */
export function callRuntime(api: string, method: string, params: unknown): Promise<unknown> {
  const channel = (globalThis as { [CHANNEL]?: RuntimeChannel })[CHANNEL]
  if (!channel) return Promise.reject(new OutsideRunError(api))
  return channel.call(method, params)
}

/**
 * The runtime's side of the channel (used by the runtime entry): numbers calls in program order,
 * sends them, settles them with the runner's replies, and sends the unanswered ones again after
 * a new runner adopted the sandbox.
 *
 * @example
 * ```ts
 * const channel = installRuntimeChannel((message) => send(message))
 * channel.onReply({ type: "reply", id: 1, ok: true, value: null })
 * ```
 */
export function installRuntimeChannel(send: (message: CallMessage) => void) {
  let nextId = 1
  const pending = new Map<
    number,
    { message: CallMessage; resolve(value: unknown): void; reject(error: Error): void }
  >()
  const waiting = (): string | undefined =>
    [...pending.values()].find((p) => WAITING.has(p.message.method))?.message.method
  const channel: RuntimeChannel = {
    call(method, params) {
      const busy = WAITING.has(method) ? waiting() : undefined
      if (busy) return Promise.reject(new ConcurrentWaitError(method, busy))
      const message: CallMessage = { type: "call", id: nextId++, method, params }
      return new Promise((resolve, reject) => {
        pending.set(message.id, { message, resolve, reject })
        send(message)
      })
    },
  }
  ;(globalThis as { [CHANNEL]?: RuntimeChannel })[CHANNEL] = channel
  return {
    onReply(reply: ReplyMessage): void {
      const call = pending.get(reply.id)
      if (!call) return
      pending.delete(reply.id)
      if (reply.ok) call.resolve(reply.value)
      else call.reject(new RuntimeCallError(reply.error))
    },
    /** Whether a wait is in flight (the runtime must then outlive a missing runner). */
    waiting(): boolean {
      return waiting() !== undefined
    },
    resendPending(): void {
      for (const call of pending.values()) send(call.message)
    },
    /** Fails every unanswered call (the runner went away). */
    failPending(error: Error): void {
      for (const call of pending.values()) call.reject(error)
      pending.clear()
    },
  }
}
