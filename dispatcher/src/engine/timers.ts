import { transitionRun } from "@helmr/migrations/queries/runs"
import {
  dequeueRun,
  enqueueRun,
  leaseTimers,
  parseTimerMember,
  publishRunMessage,
} from "@helmr/migrations/valkey"
import { type EngineDeps, sleep } from "./deps.ts"
import { errorMessage } from "./errors.ts"
import { removeLeasedTimer } from "./timer-leases.ts"

/**
 * Timed waits and run expiry. Due timers are found two ways: leased from the Valkey timers set
 * (exact, when writers put them there) and swept from Postgres every `timerPollMs` (the truth,
 * so a timer nobody put, or one lost with Valkey, is late by at most that period). Acting on a
 * timer is idempotent: Postgres compare-and-sets decide, a second dispatcher finds nothing to do.
 */

const BATCH = 200

/**
 * Completes a due timed wait and makes its run runnable again, in one transaction: the wait can
 * never end without the run waking, nor the run wake for a wait that did not end. The run's
 * move is transitionRun's compare-and-set (waiting → queued plus a transition event), inside this
 * transaction.
 */
export async function resumeTimedWait(
  deps: EngineDeps,
  waitpointId: string,
): Promise<string | null> {
  const now = new Date(deps.now())
  const runId = await deps.sql.begin(async (tx) => {
    // A timer completes at its time; a token not completed by its timeout times out.
    const [waitpoint] = await tx<{ runId: string | null; kind: string }[]>`
      select run_id, kind from waitpoints
      where id = ${waitpointId} and status = 'pending'
        and ((kind = 'timer' and resume_at <= ${now}) or (kind = 'token' and timeout_at <= ${now}))
      for update skip locked`
    if (!waitpoint) return null
    await tx`update waitpoints
      set status = ${waitpoint.kind === "timer" ? "completed" : "timed_out"}, completed_at = now()
      where id = ${waitpointId}`
    if (!waitpoint.runId) return null
    const woken = await transitionRun(
      tx,
      waitpoint.runId,
      ["waiting"],
      "queued",
      { availableAt: now },
      { reason: waitpoint.kind === "timer" ? "timer" : "token timed out", waitpointId },
    )
    return woken?.id ?? null
  })
  if (runId) {
    await enqueueRun(deps.valkey, deps.keys, runId, now)
    await publishRunMessage(deps.valkey, deps.keys, runId, "status").catch(() => 0)
  }
  return runId
}

/** Expires a queued run whose ttl has passed; returns whether it did. */
export async function expireRun(deps: EngineDeps, runId: string): Promise<boolean> {
  const now = new Date(deps.now())
  const [run] = await deps.sql<{ expiresAt: Date | null }[]>`
    select expires_at from runs where id = ${runId} and status = 'queued'`
  if (!run?.expiresAt || run.expiresAt > now) return false
  const moved = await transitionRun(
    deps.sql,
    runId,
    ["queued"],
    "expired",
    { error: { name: "RunExpired", message: "the run's ttl passed before it started" } },
    { reason: "ttl" },
  )
  if (!moved) return false
  await dequeueRun(deps.valkey, deps.keys, runId)
  return true
}

async function actOn(deps: EngineDeps, kind: "wait" | "expire", id: string): Promise<void> {
  if (kind === "wait") {
    if (await resumeTimedWait(deps, id)) deps.metrics.timers.inc({ kind: "wait_resumed" })
  } else if (await expireRun(deps, id)) {
    deps.metrics.timers.inc({ kind: "run_expired" })
  }
}

/** Acts on the timers due in the Valkey set. */
async function processLeasedTimers(deps: EngineDeps): Promise<void> {
  const now = deps.now()
  const members = await leaseTimers(deps.valkey, deps.keys, {
    now,
    leaseMs: deps.settings.leaseMs,
    limit: BATCH,
  })
  for (const member of members) {
    const timer = parseTimerMember(member)
    if (timer) await actOn(deps, timer.kind, timer.id)
    await removeLeasedTimer(deps.valkey, deps.keys, member, now + deps.settings.leaseMs)
  }
}

/** Acts on the timers due according to Postgres. */
async function sweepDueTimers(deps: EngineDeps): Promise<void> {
  const now = new Date(deps.now())
  const waits = await deps.sql<{ id: string }[]>`
    select id from waitpoints
    where status = 'pending' and kind = 'timer' and resume_at <= ${now}
    order by resume_at limit ${BATCH}`
  for (const { id } of waits) await actOn(deps, "wait", id)
  const tokens = await deps.sql<{ id: string }[]>`
    select id from waitpoints
    where status = 'pending' and kind = 'token' and timeout_at <= ${now}
    order by timeout_at limit ${BATCH}`
  for (const { id } of tokens) await actOn(deps, "wait", id)
  const expired = await deps.sql<{ id: string }[]>`
    select id from runs
    where status = 'queued' and expires_at is not null and expires_at <= ${now}
    order by expires_at limit ${BATCH}`
  for (const { id } of expired) await actOn(deps, "expire", id)
}

export async function runTimerLoop(deps: EngineDeps, signal: AbortSignal): Promise<void> {
  let lastSweep = 0
  while (!signal.aborted) {
    try {
      await processLeasedTimers(deps)
      if (deps.now() - lastSweep >= deps.settings.timerPollMs) {
        await sweepDueTimers(deps)
        lastSweep = deps.now()
      }
      const [, score] = await deps.valkey.zrange(deps.keys.timers, 0, 0, "WITHSCORES")
      const untilTimer = score === undefined ? Number.POSITIVE_INFINITY : Number(score) - deps.now()
      const untilSweep = lastSweep + deps.settings.timerPollMs - deps.now()
      await sleep(Math.max(5, Math.min(untilTimer, untilSweep)), signal)
    } catch (error) {
      deps.metrics.errors.inc({ loop: "timers" })
      deps.logger.warn({ err: errorMessage(error) }, "timer loop failed")
      await sleep(deps.settings.timerPollMs, signal)
    }
  }
}
