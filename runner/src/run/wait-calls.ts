import type { TransactionSql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { transitionRun } from "@helmr/migrations/queries/runs"
import type { RunRow, WaitpointRow } from "@helmr/migrations/rows"
import { putTimer } from "@helmr/migrations/valkey"
import type { TimerWaitParams } from "@helmr/sdk/contract"
import type { RunnerDeps } from "./deps.ts"
import { CallRefused } from "./runtime-call-error.ts"

/**
 * The waits a task makes (`timers.wait`, `tokens.wait`, `runs.triggerAndWait`). Each is one
 * transaction that finds or creates its waitpoint (keyed `run:<run id>:<call id>`, so a call sent
 * again, or made again by a retried attempt, finds the first one) and, unless it is complete
 * already, moves the run `running → waiting`. Whoever completes the waitpoint later (the
 * dispatcher for times and token timeouts, the API for token completions, the child's final
 * transition for child runs) moves the run `waiting → queued`, and the runner holding the
 * sandbox resumes it (parking.ts).
 */

/** What a wait call leads to: an answer now, or the run parks until the waitpoint completes. */
export type WaitStart = { reply: unknown } | { park: string } | { gone: true }

type Attempt = Pick<RunRow, "id" | "environmentId" | "attempt">

/** The key of what call `callId` of a run creates. */
export function callKey(runId: string, callId: number): string {
  return `run:${runId}:${callId}`
}

/**
 * Decides, inside the wait's transaction, between answering now and parking: a complete
 * waitpoint is answered at once while the run is `running`; a pending one moves the run to
 * `waiting`. A run already `waiting`/`queued` (the runtime sent the call again after a runner
 * restart) parks either way: its resume answers.
 */
async function settle(
  tx: TransactionSql,
  deps: RunnerDeps,
  run: Attempt,
  waitpoint: WaitpointRow,
): Promise<WaitStart> {
  const [current] = await tx<{ status: string }[]>`
    select status from runs
    where id = ${run.id} and runner_id = ${deps.runnerId} and attempt = ${run.attempt}
    for update`
  if (!current) return { gone: true }
  if (current.status === "waiting" || current.status === "queued") return { park: waitpoint.id }
  if (current.status !== "running") return { gone: true }
  if (waitpoint.status !== "pending") return { reply: waitResult(waitpoint) }
  await transitionRun(
    tx,
    run.id,
    ["running"],
    "waiting",
    {},
    { attempt: run.attempt, waitpointId: waitpoint.id, kind: waitpoint.kind },
    { runnerId: deps.runnerId, attempt: run.attempt },
  )
  return { park: waitpoint.id }
}

/** What a finished waitpoint gives the task. */
export function waitResult(waitpoint: WaitpointRow): unknown {
  if (waitpoint.kind === "timer") return null
  if (waitpoint.kind === "run") return waitpoint.data
  if (waitpoint.status === "timed_out") {
    return {
      ok: false,
      id: waitpoint.id,
      error: {
        name: "TokenTimeoutError",
        message: `token ${waitpoint.id} was not completed before ${waitpoint.timeoutAt?.toISOString()}`,
      },
    }
  }
  return { ok: true, id: waitpoint.id, output: waitpoint.data ?? null }
}

export async function startTimerWait(
  deps: RunnerDeps,
  run: Attempt,
  callId: number,
  params: TimerWaitParams,
  now: Date = new Date(),
): Promise<WaitStart> {
  const resumeAt = "ms" in params ? new Date(now.getTime() + params.ms) : new Date(params.until)
  const due = resumeAt <= now
  const key = callKey(run.id, callId)
  const result = await deps.sql.begin(async (tx) => {
    await tx`
      insert into waitpoints (id, environment_id, run_id, kind, status, resume_at, idempotency_key, completed_at)
      values (${newId("wp")}, ${run.environmentId}, ${run.id}, 'timer',
        ${due ? "completed" : "pending"}, ${resumeAt}, ${key}, ${due ? now : null})
      on conflict (environment_id, idempotency_key) do nothing`
    const [waitpoint] = await tx<WaitpointRow[]>`
      select * from waitpoints
      where environment_id = ${run.environmentId} and idempotency_key = ${key}
      for update`
    if (!waitpoint) throw new Error("timer waitpoint vanished inside its transaction")
    return { start: await settle(tx, deps, run, waitpoint), waitpoint }
  })
  if (
    "park" in result.start &&
    result.waitpoint.status === "pending" &&
    result.waitpoint.resumeAt
  ) {
    await putTimer(deps.valkey, deps.keys, "wait", result.waitpoint.id, result.waitpoint.resumeAt)
  }
  return result.start
}

export async function startTokenWait(
  deps: RunnerDeps,
  run: Attempt,
  tokenId: string,
): Promise<WaitStart> {
  const result = await deps.sql.begin(async (tx) => {
    const [token] = await tx<WaitpointRow[]>`
      select * from waitpoints
      where id = ${tokenId} and environment_id = ${run.environmentId} and kind = 'token'
      for update`
    if (!token) throw new CallRefused("not_found", `token ${tokenId} not found`)
    if (token.runId && token.runId !== run.id) {
      throw new CallRefused(
        "conflict",
        `token ${tokenId} is already waited for by run ${token.runId}`,
      )
    }
    let waitpoint = token
    if (token.status === "pending" && token.timeoutAt && token.timeoutAt <= new Date()) {
      ;[waitpoint = token] = await tx<WaitpointRow[]>`
        update waitpoints set status = 'timed_out', completed_at = now()
        where id = ${tokenId} returning *`
    }
    if (!token.runId) {
      await tx`update waitpoints set run_id = ${run.id} where id = ${tokenId}`
    }
    return { start: await settle(tx, deps, run, waitpoint), waitpoint }
  })
  const { waitpoint } = result
  if ("park" in result.start && waitpoint.status === "pending" && waitpoint.timeoutAt) {
    await putTimer(deps.valkey, deps.keys, "wait", waitpoint.id, waitpoint.timeoutAt)
  }
  return result.start
}

/**
 * Waits for a child run made (or found) by `makeChild` in the same transaction. The child row is
 * locked before its status is read, so a child ending concurrently either completes the
 * waitpoint through its final transition (after this commits) or is seen final here.
 */
export async function startChildWait(
  deps: RunnerDeps,
  run: Attempt,
  callId: number,
  makeChild: (tx: TransactionSql) => Promise<{ childId: string }>,
): Promise<WaitStart> {
  const key = callKey(run.id, callId)
  return deps.sql.begin(async (tx) => {
    const { childId } = await makeChild(tx)
    const [child] = await tx<RunRow[]>`select * from runs where id = ${childId} for update`
    if (!child) throw new Error("child run vanished inside its transaction")
    await tx`
      insert into waitpoints (id, environment_id, run_id, kind, idempotency_key, child_run_id)
      values (${newId("wp")}, ${run.environmentId}, ${run.id}, 'run', ${key}, ${childId})
      on conflict (environment_id, idempotency_key) do nothing`
    let [waitpoint] = await tx<WaitpointRow[]>`
      select * from waitpoints
      where environment_id = ${run.environmentId} and idempotency_key = ${key}
      for update`
    if (!waitpoint) throw new Error("child waitpoint vanished inside its transaction")
    const final = !["queued", "starting", "running", "waiting"].includes(child.status)
    if (waitpoint.status === "pending" && final) {
      const data =
        child.status === "succeeded"
          ? { ok: true, id: child.id, status: child.status, output: child.output }
          : { ok: false, id: child.id, status: child.status, error: child.error }
      ;[waitpoint] = await tx<WaitpointRow[]>`
        update waitpoints set status = 'completed', completed_at = now(), data = ${tx.json(data as never)}
        where id = ${waitpoint.id} returning *`
      if (!waitpoint) throw new Error("child waitpoint vanished inside its transaction")
    }
    return settle(tx, deps, run, waitpoint)
  })
}

/** The waitpoint a parked attempt waits for, once its run was resumed. */
export async function readWaitpoint(
  deps: RunnerDeps,
  waitpointId: string,
): Promise<WaitpointRow | null> {
  const [row] = await deps.sql<WaitpointRow[]>`select * from waitpoints where id = ${waitpointId}`
  return row ?? null
}

/** A resume found its waitpoint still pending (it should not be): wait again. */
export async function waitAgain(
  deps: RunnerDeps,
  run: Attempt,
  waitpointId: string,
): Promise<boolean> {
  const row = await transitionRun(
    deps.sql,
    run.id,
    ["running"],
    "waiting",
    {},
    { attempt: run.attempt, waitpointId, reason: "still pending" },
    { runnerId: deps.runnerId, attempt: run.attempt },
  )
  return row !== null
}
