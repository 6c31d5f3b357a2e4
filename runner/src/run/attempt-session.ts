import type { RunRow } from "@helmr/migrations/rows"
import { type RuntimeMethod, WAITING_METHODS } from "@helmr/sdk/contract"
import type { CallMessage } from "@helmr/sdk/runtime/protocol"
import type { Logger } from "pino"
import { releaseGate } from "../gate/gate.ts"
import type { OutputStream, Sandbox } from "../sandbox/driver.ts"
import type { AbortKind, AttemptReport } from "./attempt-report.ts"
import { onSandboxOutput } from "./attempt-report.ts"
import type { RunnerDeps } from "./deps.ts"
import { createDurableSinks, type DurableSinks } from "./durable-sinks.ts"
import { createEventLog, type EventLog } from "./event-log.ts"
import { startHeartbeat } from "./heartbeat.ts"
import type { Slot } from "./parking.ts"
import { runRuntimeCall } from "./runtime-calls.ts"
import { readWaitpoint, waitAgain, waitResult } from "./wait-calls.ts"

/**
 * What one attempt holds while its sandbox lives: events, heartbeat, cancel watch, aborts, the
 * maxDuration clock, the runtime calls in flight, and the runner slot. A wait parks the attempt:
 * the slot goes back to the run loop and the maxDuration clock stops (waits do not count); the
 * loop hands a new slot to `resume` once the run is back.
 */

export interface SessionState extends AttemptReport {
  sandbox: Sandbox | null
  /** The sandbox has its start message: before it, the runtime is to hear nothing else. */
  startSent: boolean
  lost: boolean
  parked: boolean
  /** The wait call whose waitpoint the parked attempt waits for. */
  pendingWait: { callId: number; waitpointId: string } | null
  timers: ReturnType<typeof setTimeout>[]
}

export interface AttemptSession {
  state: SessionState
  events: EventLog
  /** Metadata and stream chunks of the run (durable-sinks.ts). */
  durable: DurableSinks
  log: Logger
  /** The handler of the sandbox's output lines for frames under `nonce`. */
  output(nonce: string): (stream: OutputStream, line: string) => void
  requestAbort(kind: AbortKind, message: string): void
  onCall(call: CallMessage): void
  /**
   * Arms the start watchdog once `start` is sent: no `started` from the runtime within
   * `deps.startTimeoutMs` and the attempt is lost (sandbox killed; outcomeOf retries it).
   */
  watchStart(): void
  /** Starts the maxDuration clock with what is left of it. */
  startClock(maxDurationSeconds: number | null | undefined): void
  /** The attempt starts parked (an adopted sandbox of a waiting run). */
  park(): void
  close(): Promise<void>
}

export function createAttemptSession(
  deps: RunnerDeps,
  run: RunRow,
  stop: AbortSignal,
  initialSlot: Slot,
): AttemptSession {
  let slot = initialSlot
  const log = deps.logger.child({ runId: run.id, attempt: run.attempt })
  const events = createEventLog({
    sql: deps.sql,
    valkey: deps.valkey,
    keys: deps.keys,
    runId: run.id,
    onError: (error) => log.warn({ err: error }, "recording run events failed"),
  })
  const durable = createDurableSinks(deps, run, events, (error) =>
    log.warn({ err: error }, "storing run metadata or stream chunks failed"),
  )
  const state: SessionState = {
    abort: null,
    sandbox: null,
    lost: false,
    result: null,
    readyAt: null,
    started: false,
    stalled: null,
    startSent: false,
    parked: false,
    pendingWait: null,
    timers: [],
  }
  let clock: { leftMs: number; since: number; timer: ReturnType<typeof setTimeout> } | null = null

  const requestAbort = (kind: AbortKind, message: string) => {
    if (state.abort || state.lost) return
    state.abort = { kind, message }
    events.add({ type: "log", level: "warn", message, data: { attempt: run.attempt } })
    const sandbox = state.sandbox
    if (!sandbox) return
    sandbox.send({
      type: "abort",
      reason: kind === "timed_out" ? "timed_out" : "canceled",
      message,
    })
    state.timers.push(setTimeout(() => void sandbox.kill(), deps.graceMs))
  }
  const armClock = (leftMs: number) => {
    const timer = setTimeout(
      () => requestAbort("timed_out", `maxDuration of ${Math.round(limitMs / 1000)}s reached`),
      leftMs,
    )
    clock = { leftMs, since: Date.now(), timer }
  }
  let limitMs = 0
  const pauseClock = () => {
    if (!clock) return
    clearTimeout(clock.timer)
    clock = { ...clock, leftMs: Math.max(0, clock.leftMs - (Date.now() - clock.since)) }
  }

  const park = () => {
    if (state.parked) return
    state.parked = true
    pauseClock()
    deps.parked.set(run.id, { attempt: run.attempt, resume })
    slot.release()
  }

  const resume = (next: Slot) => {
    slot = next
    state.parked = false
    if (clock) armClock(clock.leftMs)
    void answerWait().catch((error: unknown) => log.warn({ err: error }, "resuming failed"))
  }

  /** After a resume: the waitpoint's outcome goes to the task, or the run waits again. */
  const answerWait = async () => {
    const wait = state.pendingWait
    if (!wait) return
    const waitpoint = await readWaitpoint(deps, wait.waitpointId)
    if (waitpoint && waitpoint.status === "pending") {
      if (await waitAgain(deps, run, wait.waitpointId)) park()
      return
    }
    state.pendingWait = null
    state.sandbox?.send({
      type: "reply",
      id: wait.callId,
      ok: true,
      value: waitpoint ? waitResult(waitpoint) : null,
    })
  }

  const onCall = (call: CallMessage) => {
    // A wait's time counts from when the task asked, not from when its transaction ran.
    const receivedAt = new Date()
    // What the task printed before a wait is recorded before the run goes `waiting`: a runner
    // killed during the wait must not lose it (the re-attached log replay starts after it).
    const before = WAITING_METHODS.includes(call.method as RuntimeMethod)
      ? Promise.all([events.flush(), durable.flush()])
      : Promise.resolve()
    void before
      .then(() => runRuntimeCall(deps, run, call, receivedAt))
      .then((outcome) => {
        if ("reply" in outcome)
          state.sandbox?.send({ type: "reply", id: call.id, ok: true, value: outcome.reply })
        else if ("error" in outcome)
          state.sandbox?.send({ type: "reply", id: call.id, ok: false, error: outcome.error })
        else if ("park" in outcome) {
          state.pendingWait = { callId: call.id, waitpointId: outcome.park }
          if (state.parked) return
          park()
          // A waiting run does not count against its queue's limit: let a queued one start.
          void releaseGate(deps, run).catch(() => {})
        }
      })
  }

  const unwatch = deps.cancelWatch.watch(
    run.id,
    () => requestAbort("canceled", "the run was canceled"),
    () => {
      if (state.parked) deps.pickup.nudge()
    },
  )
  const heartbeat = startHeartbeat(deps, run, {
    onCancel: () => requestAbort("canceled", "the run was canceled"),
    onLost: () => {
      state.lost = true
      log.warn("the run is no longer this attempt's (lease lost, or ended meanwhile); stopping it")
      void state.sandbox?.kill()
    },
  })
  // Tells the runtime its runner is alive: an unattended running task gives up (StartMessage).
  const ping = setInterval(
    () => {
      if (state.startSent) state.sandbox?.send({ type: "ping" })
    },
    Math.max(1_000, Math.floor(deps.leaseMs / 3)),
  )
  const onStop = () => {
    // A waiting run keeps its sandbox: the runner's next process adopts it.
    if (state.parked) state.sandbox?.detach()
    else requestAbort("interrupted", "the runner is shutting down; the run will be retried")
  }
  stop.addEventListener("abort", onStop)

  return {
    state,
    events,
    durable,
    log,
    output: (nonce) => onSandboxOutput(events, state, nonce, run.attempt, onCall, durable),
    requestAbort,
    onCall,
    watchStart() {
      const sentAt = Date.now()
      const timer = setTimeout(() => {
        const sandbox = state.sandbox
        if (state.started || state.result || state.abort || state.lost || !sandbox) return
        const ready =
          state.readyAt === null
            ? "its runtime never printed `ready`"
            : state.readyAt <= sentAt
              ? "its runtime printed `ready` before the start message"
              : `its runtime printed \`ready\` ${((state.readyAt - sentAt) / 1000).toFixed(1)} s after the start message`
        state.stalled =
          `no \`started\` from sandbox ${sandbox.id.slice(0, 12)} within ` +
          `${(deps.startTimeoutMs / 1000).toFixed(1)} s of the start message ` +
          `(HELMR_RUNNER_START_TIMEOUT_MS; ${ready}); ` +
          "killed, the attempt is lost"
        log.warn({ sandbox: sandbox.id }, state.stalled)
        events.add({
          type: "log",
          level: "warn",
          message: state.stalled,
          data: { attempt: run.attempt },
        })
        void sandbox.kill().catch((error: unknown) => log.warn({ err: error }, "kill failed"))
      }, deps.startTimeoutMs)
      state.timers.push(timer)
    },
    startClock(maxDurationSeconds) {
      if (!maxDurationSeconds) return
      limitMs = maxDurationSeconds * 1000
      armClock(limitMs)
    },
    park,
    async close() {
      for (const timer of state.timers) clearTimeout(timer)
      clearInterval(ping)
      if (clock) clearTimeout(clock.timer)
      heartbeat.stop()
      unwatch()
      stop.removeEventListener("abort", onStop)
      if (deps.parked.get(run.id)?.resume === resume) deps.parked.delete(run.id)
      slot.release()
    },
  }
}
