import { randomBytes } from "node:crypto"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { publishRunMessage } from "@helmr/migrations/valkey"
import { NONCE_ENV, PROTOCOL_VERSION } from "@helmr/sdk/runtime/protocol"
import type { PreparedCode, Sandbox, SandboxRecord } from "../sandbox/driver.ts"
import { EngineUnavailableError } from "../sandbox/engine-health.ts"
import { outcomeOf, setupOutcome } from "./attempt-report.ts"
import { type AttemptSession, createAttemptSession } from "./attempt-session.ts"
import type { RunnerDeps } from "./deps.ts"
import { finishAttempt, type RequeueReason } from "./finish.ts"
import type { AttemptOutcome } from "./outcome.ts"
import type { Slot } from "./parking.ts"
import { loadRunPlan, type RunPlan, RunSetupError, resolveSecrets } from "./run-plan.ts"

/**
 * One attempt of a claimed run (status `starting`, owned by this runner): build, start the
 * sandbox, supervise it until it reports a result or exits, then finish the run. Aborts (cancel,
 * maxDuration, runner shutdown) go to the task as `ctx.signal`; the sandbox is killed after the
 * grace period if it does not end by itself. While the task waits, the attempt is parked
 * (attempt-session.ts) and the sandbox lives on.
 */
export async function runAttempt(
  deps: RunnerDeps,
  run: RunRow,
  stop: AbortSignal,
  slot: Slot,
  leasedAt = performance.now(),
): Promise<void> {
  const { metrics } = deps
  const session = createAttemptSession(deps, run, stop, slot)
  const { state, events, log } = session
  let outcome: AttemptOutcome | null = null
  let requeue: RequeueReason | null = null
  let memory = ""
  try {
    const [plan, fresh] = await Promise.all([
      loadRunPlan(deps.sql, run),
      deps.warm && run.attempt === 1 ? isFirstStart(deps, run) : false,
    ])
    // A warm sandbox serves only a run's first start: a later one finds its session's workspace.
    const warm = fresh ? (deps.warm?.take(run.deploymentId, plan.sandbox.name) ?? null) : null
    let secrets: Record<string, string>
    let prepared: PreparedCode
    try {
      secrets = await resolveSecrets(deps.sql, deps.keyring, run, plan.task)
      prepared = warm?.prepared ?? (await prepareCode(deps, run, plan, events))
    } catch (error) {
      // A warm sandbox taken and not assigned is nobody's: removed, never offered again.
      await warm?.remove()
      throw error
    }
    const resources = plan.sandbox.resources
    memory = resources?.memory ?? `${deps.defaults.memoryBytes} bytes`
    // The API may have asked to cancel while this attempt was building: do not start the task then.
    const pending = await deps.sql<{ requested: boolean }[]>`
      select cancel_requested_at is not null as requested from runs where id = ${run.id}`.catch(
      async (error: unknown) => {
        // A warm sandbox taken and not assigned is nobody's: removed, never offered again.
        await warm?.remove()
        throw error
      },
    )
    if (pending[0]?.requested) session.requestAbort("canceled", "the run was canceled")
    if (state.abort || state.lost) {
      await warm?.remove()
      throw new AbortedBeforeStart()
    }
    const nonce = warm?.nonce ?? randomBytes(12).toString("hex")
    // A warm sandbox is the run's from here: never offered again, removed when the attempt ends.
    const assigned = warm?.assign(
      { runId: run.id, sessionId: run.sessionId, attempt: run.attempt },
      session.output(nonce),
    )
    if (assigned) metrics.warmTaken.inc()
    // Handled at once: a failure must not surface as an unhandled rejection before it is awaited.
    const settled = assigned?.settled.catch((error: unknown) =>
      log.warn({ err: error }, "recording a warm sandbox's run failed"),
    )
    const sandbox = assigned
      ? assigned.sandbox
      : await deps.driver.start(
          {
            runId: run.id,
            sessionId: run.sessionId,
            attempt: run.attempt,
            prepared,
            workspace: plan.sandbox.workspace,
            env: { HOME: "/tmp", [NONCE_ENV]: nonce },
            resources: {
              cpu: resources?.cpu ?? deps.defaults.cpu,
              memoryBytes: resources?.memoryBytes ?? deps.defaults.memoryBytes,
            },
            network: plan.sandbox.network,
          },
          session.output(nonce),
        )
    state.sandbox = sandbox
    metrics.sandboxes.inc()
    const running = await transitionRun(
      deps.sql,
      run.id,
      ["starting"],
      "running",
      {},
      { attempt: run.attempt, sandbox: sandbox.id.slice(0, 12), ...(warm ? { warm: true } : {}) },
      { runnerId: deps.runnerId, attempt: run.attempt },
    )
    if (!running) {
      state.lost = true
      await sandbox.kill()
    } else {
      metrics.start.observe((performance.now() - leasedAt) / 1000)
      void publishRunMessage(deps.valkey, deps.keys, run.id, "status").catch(() => 0)
      sandbox.send({
        type: "start",
        protocol: PROTOCOL_VERSION,
        run: { id: run.id, attempt: run.attempt },
        task: { id: plan.task.id, exportName: plan.task.exportName, kind: plan.task.kind },
        session: { id: run.sessionId },
        workspace: sandbox.workspace,
        entry: prepared.entry,
        env: secrets,
        payload: run.payload,
        metadata: run.metadata,
        orphanAfterMs: Math.max(10_000, deps.leaseMs * 2),
      })
      state.startSent = true
      session.watchStart()
      const pendingAbort = readAbort(session)
      if (pendingAbort) {
        state.abort = null
        session.requestAbort(pendingAbort.kind, pendingAbort.message)
      }
      session.startClock(run.maxDurationSeconds ?? plan.task.maxDuration)
    }
    // Naming the warm container and binding the session's workspace run while the task starts.
    await settled
    outcome = await superviseSandbox(session, sandbox, memory)
  } catch (error) {
    outcome =
      error instanceof AbortedBeforeStart
        ? outcomeOf(state, { result: null, exit: { exitCode: null, oomKilled: false }, memory })
        : setupOutcome(error)
    // The engine gave no answer before the task ran: not the task's doing, no attempt used.
    if (error instanceof EngineUnavailableError) requeue = "engine unavailable"
    if (!(error instanceof AbortedBeforeStart) && !(error instanceof RunSetupError)) {
      log.warn({ err: error }, "attempt failed before the task ran")
    }
  }
  await endAttempt(deps, run, session, outcome, requeue)
}

/**
 * Whether this claim is the run's first: attempt 1 may come again after a shutdown interrupted it
 * (not counted as an attempt), and then its session's workspace already exists.
 */
async function isFirstStart(deps: RunnerDeps, run: RunRow): Promise<boolean> {
  const [row] = await deps.sql<{ n: number }[]>`
    select count(*)::int as n from run_events
    where run_id = ${run.id} and type = 'transition' and data->>'to' = 'starting'`
  return (row?.n ?? 0) <= 1
}

/** Builds or reuses the run's image (cached: one image lookup). */
async function prepareCode(
  deps: RunnerDeps,
  run: RunRow,
  plan: RunPlan,
  events: AttemptSession["events"],
): Promise<PreparedCode> {
  const buildStarted = performance.now()
  return deps.driver
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
    .finally(() => deps.metrics.build.observe((performance.now() - buildStarted) / 1000))
}

/**
 * A sandbox of a waiting run left by this runner's previous process, re-attached: the attempt
 * goes on parked (no slot) and the runtime sends its unanswered calls again.
 */
export async function adoptAttempt(
  deps: RunnerDeps,
  run: RunRow,
  record: SandboxRecord,
  stop: AbortSignal,
  slot: Slot,
): Promise<boolean> {
  const session = createAttemptSession(deps, run, stop, slot)
  const [last] = await deps.sql<{ at: Date }[]>`
    select coalesce(max(created_at), ${run.updatedAt}) as at from run_events where run_id = ${run.id}`
  const adopted = await deps.driver.adopt(record, last?.at ?? run.updatedAt, session.output)
  if (!adopted) {
    await session.close()
    await session.events.close()
    return false
  }
  session.state.sandbox = adopted.sandbox
  session.state.startSent = true
  // Adopted while waiting: its task started long ago (no start watchdog).
  session.state.started = true
  deps.metrics.sandboxes.inc()
  session.park()
  session.startClock(run.maxDurationSeconds)
  session.events.add({
    type: "log",
    level: "info",
    message: `runner ${deps.runnerId} restarted and re-attached to the sandbox of attempt ${run.attempt}`,
    data: { attempt: run.attempt },
  })
  adopted.sandbox.send({ type: "reattach" })
  void (async () => {
    const outcome = await superviseSandbox(session, adopted.sandbox, "")
    await endAttempt(deps, run, session, outcome)
  })().catch((error: unknown) => session.log.error({ err: error }, "adopted attempt failed"))
  return true
}

/** Waits for the sandbox to end (an outcome) or to be detached (null: left for adoption). */
async function superviseSandbox(
  session: AttemptSession,
  sandbox: Sandbox,
  memory: string,
): Promise<AttemptOutcome | null> {
  const exit = await Promise.race([sandbox.exited, sandbox.detached.then(() => null)])
  if (!exit) return null
  await session.events.flush()
  return outcomeOf(session.state, { result: session.state.result, exit, memory })
}

async function endAttempt(
  deps: RunnerDeps,
  run: RunRow,
  session: AttemptSession,
  outcome: AttemptOutcome | null,
  requeue: RequeueReason | null = null,
): Promise<void> {
  const { state, events, log } = session
  const detached = outcome === null
  await session.close()
  try {
    // Every chunk and the last metadata are stored before the run's end is recorded.
    await session.durable.flush()
    if (state.lost) return void deps.metrics.finished.inc({ status: "lost" })
    if (detached) return
    const reason = state.abort?.kind === "interrupted" ? "runner shutdown" : requeue
    await finishAttempt(deps, run, outcome, events, reason)
    deps.metrics.finished.inc({
      status: reason && outcome.status !== "succeeded" ? "interrupted" : outcome.status,
    })
  } finally {
    await events.close()
    if (!detached) {
      await state.sandbox
        ?.remove()
        .catch((error: unknown) => log.warn({ err: error }, "removing the sandbox failed"))
    }
    // A detached sandbox lives on for the next process of this runner: no longer this one's.
    if (state.sandbox) deps.metrics.sandboxes.dec()
  }
}

class AbortedBeforeStart extends Error {}

/** Read through a call: the abort changes from callbacks, behind the type checker's back. */
function readAbort(session: AttemptSession): AttemptSession["state"]["abort"] {
  return session.state.abort
}
