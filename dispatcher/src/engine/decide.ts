import { newId } from "@helmr/migrations/ids"
import { formatEntryToken, parseEntryToken } from "@helmr/migrations/valkey"
import { buildScheduledPayload, durationMs, readScheduleRunOptions } from "@helmr/sdk/contract"
import type { DispatcherSettings } from "../config.ts"
import { ScheduleError } from "../schedule/calc.ts"
import { planFire } from "../schedule/plan.ts"
import type { CursorMove, InstanceSnapshot, ScheduledRun, SlotRecord } from "./fire-sql.ts"
import { scheduledRunFlow, taskMaxDuration } from "./run-options.ts"
import type { EntrySwap, LeasedEntry } from "./schedule-leases.ts"

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

  let plan: ReturnType<typeof planFire>
  try {
    plan = planFire({
      cron: instance.cron,
      timezone: instance.timezone,
      slot,
      now,
      upcomingCount: settings.upcomingCount,
    })
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error
    return decideFailure(lease, instance, slot, now, error.message, token.attempt + 1)
  }
  // A staged fire (before its slot) makes the run available at the slot, not before.
  const availableAt = new Date(Math.max(now.getTime(), slot.getTime()))
  const options = readScheduleRunOptions(instance.runOptions)
  const ttlMs = options.ttl === undefined ? null : durationMs(options.ttl)
  const runId = newId("run")
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
    availableAt,
    expiresAt: ttlMs === null ? null : new Date(availableAt.getTime() + ttlMs),
  }
  return {
    kind: "fire",
    run,
    move: { instanceId: instance.id, next: plan.next, firedSlot: slot },
    slots: [
      slotRecord(instance.id, slot, "fired", { runId, attempts: token.attempt + 1 }),
      ...skippedRecords(instance.id, plan.skipped),
    ],
    swap: {
      instanceId: lease.instanceId,
      expected: lease.token,
      next: { token: formatEntryToken(instance.version, plan.next), score: plan.next.getTime() },
    },
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
    swap: {
      instanceId: lease.instanceId,
      expected: lease.token,
      next: plan
        ? { token: formatEntryToken(instance.version, plan.next), score: plan.next.getTime() }
        : null,
    },
  }
}

function slotRecord(
  instanceId: string,
  slotAt: Date,
  outcome: SlotRecord["outcome"],
  extra: { runId?: string; attempts: number; error?: string },
): SlotRecord {
  return {
    instanceId,
    slotAt,
    outcome,
    runId: extra.runId ?? null,
    attempts: extra.attempts,
    error: extra.error ?? null,
    lastSlotAt: null,
    slotCount: 1,
  }
}

function skippedRecords(
  instanceId: string,
  skipped: ReturnType<typeof planFire>["skipped"],
): SlotRecord[] {
  if (!skipped) return []
  return [
    {
      instanceId,
      slotAt: skipped.first,
      outcome: "skipped",
      runId: null,
      attempts: 0,
      error: null,
      lastSlotAt: skipped.last,
      slotCount: skipped.complete ? skipped.count : null,
    },
  ]
}
