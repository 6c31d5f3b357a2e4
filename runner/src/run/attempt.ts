import { randomBytes } from "node:crypto"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { publishRunMessage } from "@helmr/migrations/valkey"
import { NONCE_ENV, PROTOCOL_VERSION } from "@helmr/sdk/runtime/protocol"
import type { Sandbox } from "../sandbox/driver.ts"
import {
  type AbortKind,
  type AttemptReport,
  onSandboxOutput,
  outcomeOf,
  setupOutcome,
} from "./attempt-report.ts"
import type { RunnerDeps } from "./deps.ts"
import { createDurableSinks } from "./durable-sinks.ts"
import { createEventLog } from "./event-log.ts"
import { finishAttempt } from "./finish.ts"
import { startHeartbeat } from "./heartbeat.ts"
import type { AttemptOutcome } from "./outcome.ts"
import { loadRunPlan, RunSetupError, resolveSecrets } from "./run-plan.ts"

/**
 * One attempt of a claimed run (status `starting`, owned by this runner): build, start the
 * sandbox, supervise it until it reports a result or exits, then finish the run. Aborts (cancel,
 * maxDuration, runner shutdown) go to the task as `ctx.signal`; the sandbox is killed after the
 * grace period if it does not end by itself.
 */

interface AttemptState extends AttemptReport {
  sandbox: Sandbox | null
  lost: boolean
  timers: ReturnType<typeof setTimeout>[]
}

export async function runAttempt(
  deps: RunnerDeps,
  run: RunRow,
  stop: AbortSignal,
  leasedAt = performance.now(),
): Promise<void> {
  const { metrics } = deps
  let held: "starting" | "running" = "starting"
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
  const state: AttemptState = { abort: null, sandbox: null, lost: false, result: null, timers: [] }
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
  const unwatch = deps.cancelWatch.watch(run.id, () =>
    requestAbort("canceled", "the run was canceled"),
  )
  const heartbeat = startHeartbeat(deps, run, {
    onCancel: () => requestAbort("canceled", "the run was canceled"),
    onLost: () => {
      state.lost = true
      log.warn("lost the run's lease to another runner; stopping this attempt")
      void state.sandbox?.kill()
    },
  })
  const onStop = () =>
    requestAbort("interrupted", "the runner is shutting down; the run will be retried")
  stop.addEventListener("abort", onStop)

  metrics.runs.inc({ state: held })
  let outcome: AttemptOutcome
  let memory = ""
  try {
    const plan = await loadRunPlan(deps.sql, run)
    const secrets = await resolveSecrets(deps.sql, deps.keyring, run, plan.task)
    const buildStarted = performance.now()
    const prepared = await deps.driver
      .prepare(
        {
          projectId: plan.projectId,
          graph: plan.graph,
          workspace: plan.sandbox.workspace,
          bundle: plan.bundle,
          readBlob: plan.readBlob,
        },
        (e) =>
          events.add({
            type: "build",
            level: e.level,
            message: e.message,
            data: { ...e.data, attempt: run.attempt },
          }),
      )
      .finally(() => metrics.build.observe((performance.now() - buildStarted) / 1000))
    const resources = plan.sandbox.resources
    memory = resources?.memory ?? `${deps.defaults.memoryBytes} bytes`
    // The API may have asked to cancel while this attempt was building: do not start the task then.
    const [pending] = await deps.sql<{ requested: boolean }[]>`
      select cancel_requested_at is not null as requested from runs where id = ${run.id}`
    if (pending?.requested) requestAbort("canceled", "the run was canceled")
    if (state.abort || state.lost) throw new AbortedBeforeStart()
    const nonce = randomBytes(12).toString("hex")
    const sandbox = await deps.driver.start(
      {
        runId: run.id,
        sessionId: run.sessionId,
        attempt: run.attempt,
        prepared,
        workspace: plan.sandbox.workspace,
        env: { ...secrets, HOME: "/tmp", [NONCE_ENV]: nonce },
        resources: {
          cpu: resources?.cpu ?? deps.defaults.cpu,
          memoryBytes: resources?.memoryBytes ?? deps.defaults.memoryBytes,
        },
        network: plan.sandbox.network,
      },
      onSandboxOutput(events, state, nonce, run.attempt, durable),
    )
    state.sandbox = sandbox
    metrics.sandboxes.inc()
    const running = await transitionRun(
      deps.sql,
      run.id,
      ["starting"],
      "running",
      {},
      { attempt: run.attempt, sandbox: sandbox.id.slice(0, 12) },
      { runnerId: deps.runnerId, attempt: run.attempt },
    )
    if (!running) {
      state.lost = true
      await sandbox.kill()
    } else {
      metrics.start.observe((performance.now() - leasedAt) / 1000)
      metrics.runs.dec({ state: held })
      held = "running"
      metrics.runs.inc({ state: held })
      void publishRunMessage(deps.valkey, deps.keys, run.id, "status").catch(() => 0)
      sandbox.send({
        type: "start",
        protocol: PROTOCOL_VERSION,
        run: { id: run.id, attempt: run.attempt },
        task: { id: plan.task.id, exportName: plan.task.exportName, kind: plan.task.kind },
        session: { id: run.sessionId },
        workspace: sandbox.workspace,
        entry: prepared.entry,
        payload: run.payload,
        metadata: run.metadata,
      })
      const pending = readAbort(state)
      if (pending) {
        state.abort = null
        requestAbort(pending.kind, pending.message)
      }
      const maxDuration = run.maxDurationSeconds ?? plan.task.maxDuration
      if (maxDuration) {
        state.timers.push(
          setTimeout(
            () => requestAbort("timed_out", `maxDuration of ${maxDuration}s reached`),
            maxDuration * 1000,
          ),
        )
      }
    }
    const exit = await sandbox.exited
    await events.flush()
    outcome = outcomeOf(state, { result: state.result, exit, memory })
  } catch (error) {
    outcome =
      error instanceof AbortedBeforeStart
        ? outcomeOf(state, { result: null, exit: { exitCode: null, oomKilled: false }, memory })
        : setupOutcome(error)
    if (!(error instanceof AbortedBeforeStart) && !(error instanceof RunSetupError)) {
      log.warn({ err: error }, "attempt failed before the task ran")
    }
  } finally {
    for (const timer of state.timers) clearTimeout(timer)
    heartbeat.stop()
    unwatch()
    stop.removeEventListener("abort", onStop)
  }
  try {
    // Every chunk and the last metadata are stored before the run's end is recorded.
    await durable.flush()
    if (state.lost) return void metrics.finished.inc({ status: "lost" })
    const interrupted = state.abort?.kind === "interrupted"
    await finishAttempt(deps, run, outcome, events, interrupted)
    metrics.finished.inc({
      status: interrupted && outcome.status !== "succeeded" ? "interrupted" : outcome.status,
    })
  } finally {
    metrics.runs.dec({ state: held })
    await events.close()
    await state.sandbox
      ?.remove()
      .catch((error: unknown) => log.warn({ err: error }, "removing the sandbox failed"))
    if (state.sandbox) metrics.sandboxes.dec()
  }
}

class AbortedBeforeStart extends Error {}

/** Read through a call: the abort changes from callbacks, behind the type checker's back. */
function readAbort(state: AttemptState): AttemptState["abort"] {
  return state.abort
}
