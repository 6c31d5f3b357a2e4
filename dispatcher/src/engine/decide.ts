import { newId } from "@helmr/migrations/ids"
import { formatEntryToken, parseEntryToken } from "@helmr/migrations/valkey"
import { buildScheduledPayload, durationMs, readScheduleRunOptions } from "@helmr/sdk/contract"
import type { DispatcherSettings } from "../config.ts"
import { ScheduleError } from "../schedule/calc.ts"
import { planFire } from "../schedule/plan.ts"
import type { CursorMove, InstanceSnapshot, ScheduledRun, SlotRecord } from "./fire-sql.ts"
import { beyondCatchupWindow, decideOverlap, HELD_AVAILABLE_AT } from "./overlap.ts"
import { scheduledRunFlow, taskMaxDuration } from "./run-options.ts"
import type { EntrySwap, LeasedEntry } from "./schedule-leases.ts"
import { skippedRecords, slotRecord } from "./slot-records.ts"

/**
 * What to do with one leased entry, decided from the locked instance and the clock alone. The
 * fire (fire.ts) applies the decisions of a batch in one transaction, then the Valkey swaps.
 */
export type Decision =
  | { kind: "stale"; reason: StaleReason; swap: EntrySwap }
  | { kind: "retry"; reason: string; swap: EntrySwap }
  | {
      kind: "fire"
      run: ScheduledRun
      move: CursorMove
      slots: SlotRecord[]
      swap: EntrySwap
      /** Held runs of the instance a newer slot replaces: canceled in the fire's transaction. */
      cancelHeld: string[]
      /** Active runs canceled through the cancel path once the fire has committed. */
      cancelActive: string[]
    }
  | {
      kind: "skip"
      reason: "overlap" | "catchup_window"
      move: CursorMove
      slots: SlotRecord[]
      swap: EntrySwap
    }
  | { kind: "fail"; error: string; move: CursorMove; slots: SlotRecord[]; swap: EntrySwap }

export type StaleReason = "gone" | "inactive" | "version" | "moved" | "token"

/** `sched:<instance id>:<slot ISO>` — one run per slot, by the runs' unique constraint. */
export function slotIdempotencyKey(instanceId: string, slot: Date): string {
  return `sched:${instanceId}:${slot.toISOString()}`
}

export function retryDelay(settings: DispatcherSettings, attempt: number): number {
  return Math.min(settings.retryBaseMs * 2 ** Math.max(0, attempt - 1), settings.retryMaxMs)
}

/** Why a run cannot be started for this instance now, or null when it can. */
export function startProblem(instance: InstanceSnapshot): string | null {
  if (!instance.deploymentId) {
    return `environment ${instance.environmentId} has no current deployment`
  }
  if (instance.task === null || instance.task === undefined) {
    return `task '${instance.taskId}' is not in the current deployment ${instance.deploymentId}`
  }
  return null
}

/** The entry an instance should have in Valkey, from its row: null when it should have none. */
export function desiredEntry(instance: InstanceSnapshot | undefined) {
  if (!instance?.active || !instance.nextFireAt) return null
  return {
    token: formatEntryToken(instance.version, instance.nextFireAt),
    score: instance.nextFireAt.getTime(),
  }
}

export function decideLease(
  lease: LeasedEntry,
  instance: InstanceSnapshot | undefined,
  now: Date,
  settings: DispatcherSettings,
  failure: string | null = null,
): Decision {
  const token = parseEntryToken(lease.token)
  const stale = (reason: StaleReason): Decision => ({
    kind: "stale",
    reason,
    swap: { instanceId: lease.instanceId, expected: lease.token, next: desiredEntry(instance) },
  })
  if (!token) return stale("token")
  if (!instance) return stale("gone")
  if (!instance.active) return stale("inactive")
  if (instance.version !== token.version) return stale("version")
  if (instance.nextFireAt?.getTime() !== token.slot.getTime()) return stale("moved")

  const slot = token.slot
  // Policies that make no run need no deployment: they come before the start checks.
  if (beyondCatchupWindow(slot, now, instance.catchupWindowMs)) {
    return decideSkip(lease, instance, slot, now, "catchup_window", token.attempt)
  }
  const overlap = decideOverlap(instance.overlap, instance.activeRuns)
  if (overlap.kind === "skip") {
    return decideSkip(lease, instance, slot, now, "overlap", token.attempt)
  }
  const problem = failure ?? startProblem(instance)
  if (problem) {
    const attempt = token.attempt + 1
    if (attempt < settings.maxAttempts) {
      return {
        kind: "retry",
        reason: problem,
        swap: {
          instanceId: lease.instanceId,
          expected: lease.token,
          next: {
            token: formatEntryToken(instance.version, slot, attempt),
            // Entries are leased `prefetchMs` before their score: keep the whole backoff.
            score: now.getTime() + retryDelay(settings, attempt) + settings.prefetchMs,
          },
        },
      }
    }
    return decideFailure(lease, instance, slot, now, problem, attempt)
  }

  const planned = planOrFail(lease, instance, slot, now, settings.upcomingCount, token.attempt)
  if ("failed" in planned) return planned.failed
  const { plan } = planned
  // A staged fire (before its slot) makes the run available at the slot, not before.
  const availableAt = new Date(Math.max(now.getTime(), slot.getTime()))
  const options = readScheduleRunOptions(instance.runOptions)
  const ttlMs = options.ttl === undefined ? null : durationMs(options.ttl)
  const runId = newId("run")
  const held = overlap.kind === "run" && overlap.held
  const run: ScheduledRun = {
    id: runId,
    sessionId: newId("sess"),
    environmentId: instance.environmentId,
    deploymentId: instance.deploymentId as string,
    taskId: instance.taskId,
    scheduleId: instance.scheduleId,
    instanceId: instance.id,
    slotAt: slot,
    payload: buildScheduledPayload({
      slot,
      lastSlot: instance.lastFiredAt,
      timezone: instance.timezone,
      scheduleId: instance.scheduleId,
      externalId: instance.externalId,
      upcoming: plan.upcoming,
    }),
    idempotencyKey: slotIdempotencyKey(instance.id, slot),
    tags: options.tags ?? [],
    ...scheduledRunFlow(instance.taskId, instance.task, options),
    maxDurationSeconds: options.maxDuration ?? taskMaxDuration(instance.task),
    // A held run waits for the dispatcher to release it (held-runs.ts); the runner, which
    // never starts a run before its available_at, needs to know nothing more.
    availableAt: held ? HELD_AVAILABLE_AT : availableAt,
    held,
    // The ttl counts from the slot (or the fire), held or not.
    expiresAt: ttlMs === null ? null : new Date(availableAt.getTime() + ttlMs),
  }
  return {
    kind: "fire",
    run,
    move: { instanceId: instance.id, next: plan.next, firedSlot: slot },
    slots: [
      slotRecord(instance.id, slot, "fired", {
        runId,
        attempts: token.attempt + 1,
        reason: overlap.kind === "run" ? overlap.reason : null,
      }),
      ...skippedRecords(instance.id, plan.skipped),
    ],
    cancelHeld: overlap.kind === "run" ? overlap.cancelHeld : [],
    cancelActive: overlap.kind === "run" ? overlap.cancelActive : [],
    swap: advanceSwap(lease, instance, plan.next),
  }
}

/**
 * A slot the policies skip (overlap, catch-up window): recorded `skipped` with its reason, no
 * run, and the cursor moves on exactly as for a fire (slots passed meanwhile are `missed`).
 */
function decideSkip(
  lease: LeasedEntry,
  instance: InstanceSnapshot,
  slot: Date,
  now: Date,
  reason: "overlap" | "catchup_window",
  attempts: number,
): Decision {
  const planned = planOrFail(lease, instance, slot, now, 1, attempts)
  if ("failed" in planned) return planned.failed
  const { plan } = planned
  return {
    kind: "skip",
    reason,
    move: { instanceId: instance.id, next: plan.next, firedSlot: null },
    slots: [
      slotRecord(instance.id, slot, "skipped", { attempts, reason }),
      ...skippedRecords(instance.id, plan.skipped),
    ],
    swap: advanceSwap(lease, instance, plan.next),
  }
}

/** Out of attempts: the slot is recorded failed and the cursor moves on, as for a fire. */
function decideFailure(
  lease: LeasedEntry,
  instance: InstanceSnapshot,
  slot: Date,
  now: Date,
  error: string,
  attempts: number,
): Decision {
  const failed = slotRecord(instance.id, slot, "failed", { attempts, error })
  let plan: ReturnType<typeof planFire> | null = null
  try {
    plan = planFire({
      cron: instance.cron,
      timezone: instance.timezone,
      slot,
      now,
      upcomingCount: 1,
    })
  } catch {
    // A cron that no longer computes (never valid through the API): park the instance.
    plan = null
  }
  return {
    kind: "fail",
    error,
    move: { instanceId: instance.id, next: plan?.next ?? null, firedSlot: null },
    slots: plan ? [failed, ...skippedRecords(instance.id, plan.skipped)] : [failed],
    swap: advanceSwap(lease, instance, plan?.next ?? null),
  }
}

/** planFire, or the slot's failure when the stored cron no longer computes. */
function planOrFail(
  lease: LeasedEntry,
  instance: InstanceSnapshot,
  slot: Date,
  now: Date,
  upcomingCount: number,
  attempts: number,
): { plan: ReturnType<typeof planFire> } | { failed: Decision } {
  try {
    const plan = planFire({
      cron: instance.cron,
      timezone: instance.timezone,
      slot,
      now,
      upcomingCount,
    })
    return { plan }
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error
    return { failed: decideFailure(lease, instance, slot, now, error.message, attempts + 1) }
  }
}

/** The lease swapped for the entry of the instance's next slot (none: the instance is parked). */
function advanceSwap(lease: LeasedEntry, instance: InstanceSnapshot, next: Date | null): EntrySwap {
  return {
    instanceId: lease.instanceId,
    expected: lease.token,
    next: next ? { token: formatEntryToken(instance.version, next), score: next.getTime() } : null,
  }
}
