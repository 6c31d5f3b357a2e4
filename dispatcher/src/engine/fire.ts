import type { TransactionSql } from "@helmr/migrations/db"
import { transitionRun } from "@helmr/migrations/queries/runs"
import { dequeueRun, enqueueRuns } from "@helmr/migrations/valkey"
import type { Decision } from "./decide.ts"
import { decideLease } from "./decide.ts"
import { type EngineDeps, sleep } from "./deps.ts"
import { errorMessage, isTransientError } from "./errors.ts"
import {
  insertScheduledRuns,
  lockInstances,
  moveCursors,
  recordSlots,
  type SlotRecord,
} from "./fire-sql.ts"
import { cancelRuns } from "./held-runs.ts"
import { type LeasedEntry, swapScheduleEntries } from "./schedule-leases.ts"

/**
 * A fire, DESIGN.md rule 3, for a whole leased batch (one slot time): lock the instances →
 * supersede stale leases → insert the runs (one per slot by constraint) → move the cursors →
 * record each slot's outcome, all in one transaction, committed at the slot when it was staged
 * ahead of it; then enqueue the runs and swap each lease for the next fire.
 * A crash before the commit leaves the leases to expire and be fired again; a crash after it
 * leaves stale leases (superseded when they come due again) and runs that repair enqueues.
 */
export async function fireLeases(deps: EngineDeps, leases: readonly LeasedEntry[]): Promise<void> {
  let decisions: Applied
  try {
    decisions = await applyDecisions(deps, leases, new Map())
  } catch (error) {
    if (isTransientError(error)) {
      deps.logger.warn({ err: errorMessage(error), leases: leases.length }, "fire postponed")
      deps.metrics.retries.inc({ reason: "unavailable" }, leases.length)
      await postponeLeases(deps, leases)
      return
    }
    if (leases.length > 1) {
      // One bad slot must not hold back the batch: fire each alone to isolate it.
      for (const lease of leases) await fireLeases(deps, [lease])
      return
    }
    const lease = leases[0] as LeasedEntry
    deps.logger.warn({ err: errorMessage(error), instanceId: lease.instanceId }, "fire failed")
    try {
      decisions = await applyDecisions(
        deps,
        leases,
        new Map([[lease.instanceId, errorMessage(error)]]),
      )
    } catch (again) {
      deps.logger.error({ err: errorMessage(again), instanceId: lease.instanceId }, "fire failed")
      await postponeLeases(deps, leases)
      return
    }
  }
  await followUp(deps, decisions)
}

interface Applied {
  decisions: Decision[]
  /** Runs this transaction created (not ones that existed for the slot already). */
  created: { id: string; availableAt: Date }[]
  /** Held runs this transaction canceled (to leave the run queue and tell listeners). */
  canceledHeld: string[]
  /** Active runs to cancel through the cancel path now that the new slot is committed. */
  cancelActive: string[]
}

async function applyDecisions(
  deps: EngineDeps,
  leases: readonly LeasedEntry[],
  failures: Map<string, string>,
): Promise<Applied> {
  return deps.sql.begin(async (tx) => {
    // A dispatcher that stalls mid-transaction (SIGSTOP, a long GC pause) must not hold the rows
    // locked past its lease: Postgres ends such a transaction, the next holder proceeds.
    await tx`select set_config('idle_in_transaction_session_timeout', ${String(deps.settings.leaseMs + deps.settings.prefetchMs)}, true)`
    const instances = await lockInstances(
      tx,
      leases.map((l) => l.instanceId),
    )
    const now = new Date(deps.now())
    const decisions = leases.map((lease) =>
      decideLease(
        lease,
        instances.get(lease.instanceId),
        now,
        deps.settings,
        failures.get(lease.instanceId) ?? null,
      ),
    )
    const fires = decisions.filter((d) => d.kind === "fire")
    // Held runs a newer cancelPrevious slot replaces go first: at most one run of an instance
    // is held (a unique index), and the new one may be held in their place.
    await cancelHeldRuns(
      tx,
      fires.flatMap((d) => d.cancelHeld),
    )
    const { ids, created } = await insertScheduledRuns(
      tx,
      fires.map((d) => d.run),
    )
    for (const fire of fires) {
      const fired = fire.slots[0]
      if (fired) fired.runId = ids.get(fire.run.idempotencyKey) ?? null
    }
    const writes = decisions.filter(
      (d) => d.kind === "fire" || d.kind === "fail" || d.kind === "skip",
    )
    await moveCursors(tx, writes)
    // Staged ahead of its slot: everything is written; commit at the slot. The rows stay locked
    // meanwhile, so an API change of these instances is acknowledged only after this fire.
    const fireAt = Math.max(0, ...fires.map((d) => d.run.slotAt.getTime()))
    const early = Math.min(fireAt - deps.now(), deps.settings.prefetchMs)
    if (early > 0) await sleep(early)
    // The slot records go last: their recorded_at (clock_timestamp) is the commit time, nearly.
    await recordSlots(
      tx,
      writes.flatMap((d) => d.slots),
    )
    return {
      decisions,
      // Held runs stay out of the run queue until released (held-runs.ts).
      created: fires
        .filter((d) => created.has(d.run.id) && !d.run.held)
        .map((d) => ({ id: d.run.id, availableAt: d.run.availableAt })),
      canceledHeld: fires.flatMap((d) => d.cancelHeld),
      cancelActive: fires.filter((d) => created.has(d.run.id)).flatMap((d) => d.cancelActive),
    }
  }) as Promise<Applied>
}

async function followUp(deps: EngineDeps, applied: Applied): Promise<void> {
  const committedAt = deps.now()
  const { metrics, logger } = deps
  for (const decision of applied.decisions) {
    switch (decision.kind) {
      case "fire":
        metrics.fires.inc({ outcome: "fired" })
        metrics.lateness.observe(Math.max(0, committedAt - decision.run.slotAt.getTime()) / 1000)
        countSkips(deps, decision.slots)
        break
      case "skip":
        countSkips(deps, decision.slots)
        break
      case "fail":
        metrics.fires.inc({ outcome: "failed" })
        logger.error({ instanceId: decision.move.instanceId, err: decision.error }, "slot failed")
        break
      case "retry":
        metrics.retries.inc({ reason: "start" })
        logger.warn({ instanceId: decision.swap.instanceId, err: decision.reason }, "fire retry")
        break
      case "stale":
        metrics.staleLeases.inc({ reason: decision.reason })
        break
      default:
        assertNever(decision)
    }
  }
  try {
    await Promise.all([
      enqueueRuns(deps.valkey, deps.keys, applied.created),
      ...applied.canceledHeld.map((id) => dequeueRun(deps.valkey, deps.keys, id)),
      // The previous runs of cancelPrevious slots; the held-run loop retries what fails here.
      cancelRuns(deps, applied.cancelActive),
      swapScheduleEntries(
        deps.valkey,
        deps.keys,
        applied.decisions.map((d) => d.swap),
      ),
    ])
  } catch (error) {
    // Committed already: the leases come due again and are superseded, repair enqueues the runs.
    deps.metrics.errors.inc({ loop: "fire-follow-up" })
    logger.warn({ err: errorMessage(error) }, "fire follow-up failed; repair will finish it")
  }
}

/** Skipped slots by reason (`helmr_dispatcher_fires_total{outcome="skipped"}` counts them all). */
function countSkips(deps: EngineDeps, slots: readonly SlotRecord[]): void {
  for (const slot of slots) {
    if (slot.outcome !== "skipped") continue
    deps.metrics.fires.inc({ outcome: "skipped" }, slot.slotCount ?? 1)
    deps.metrics.skips.inc({ reason: slot.reason ?? "missed" }, slot.slotCount ?? 1)
  }
}

/**
 * Cancels held runs inside the fire's transaction: transitionRun's compare-and-set from
 * `queued`. Safe under the instance lock: a queued run's end never touches its instance row.
 */
async function cancelHeldRuns(tx: TransactionSql, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    await transitionRun(
      tx,
      runId,
      ["queued"],
      "canceled",
      { leaseExpiresAt: null },
      { reason: "replaced by a newer slot of its schedule (overlap cancelPrevious)" },
    )
  }
}

/** Gives leases back a little later, unchanged, while Postgres is unavailable. */
async function postponeLeases(deps: EngineDeps, leases: readonly LeasedEntry[]): Promise<void> {
  const at = deps.now() + deps.settings.retryBaseMs + deps.settings.prefetchMs
  await swapScheduleEntries(
    deps.valkey,
    deps.keys,
    leases.map((l) => ({
      instanceId: l.instanceId,
      expected: l.token,
      next: { token: l.token, score: at },
    })),
  ).catch(() => {
    // Valkey is down too: the leases simply expire.
  })
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`)
}
