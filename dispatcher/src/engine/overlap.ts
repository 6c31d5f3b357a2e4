import type { Overlap, RunStatus } from "@helmr/sdk/contract"

/**
 * The overlap and catch-up policies of a slot (docs/schedules.md), decided from the locked
 * instance's active runs and the clock alone. No I/O.
 */

/**
 * The `available_at` of a held run: far enough that no runner ever reaches it (a runner never
 * starts a run before its available_at), a real date so every reader can parse it.
 */
export const HELD_AVAILABLE_AT = new Date("9999-12-31T00:00:00.000Z")

/** A run of the instance that is not final (queued, starting, running or waiting). */
export interface ActiveRun {
  id: string
  status: RunStatus
  /** Held behind the instance's active run (bufferOne / cancelPrevious), not yet released. */
  held: boolean
}

export type OverlapAction =
  /** No conflict (or `allow`): the slot's run starts normally. */
  | { kind: "fire" }
  /** The slot is recorded skipped, reason `overlap`; no run. */
  | { kind: "skip" }
  /**
   * The slot's run is made. `held`: it waits until no released run of the instance is active (the
   * dispatcher releases it). `cancelHeld`: held runs canceled in the fire's own transaction (a
   * newer slot replaces them). `cancelActive`: released runs canceled through the cancel path
   * after the commit.
   */
  | {
      kind: "run"
      held: boolean
      reason: "buffered" | "canceled_previous"
      cancelHeld: string[]
      cancelActive: string[]
    }

export function decideOverlap(overlap: Overlap, active: readonly ActiveRun[]): OverlapAction {
  if (overlap === "allow" || active.length === 0) return { kind: "fire" }
  const held = active.filter((r) => r.held)
  const released = active.filter((r) => !r.held)
  switch (overlap) {
    case "skip":
      return { kind: "skip" }
    case "bufferOne":
      // The one buffer place is taken by a run still held, or by one released a moment ago
      // (then no released run is active yet, but the held one is about to be).
      if (held.length > 0) return { kind: "skip" }
      return { kind: "run", held: true, reason: "buffered", cancelHeld: [], cancelActive: [] }
    case "cancelPrevious":
      return {
        kind: "run",
        // Starts once the canceled runs have ended: never two runs of the instance at once.
        held: released.length > 0,
        reason: "canceled_previous",
        cancelHeld: held.map((r) => r.id),
        cancelActive: released.map((r) => r.id),
      }
    default:
      return assertNever(overlap)
  }
}

/** True when the slot is reached later than the catch-up window allows (null: no window). */
export function beyondCatchupWindow(slot: Date, now: Date, windowMs: number | null): boolean {
  return windowMs !== null && now.getTime() - slot.getTime() > windowMs
}

function assertNever(value: never): never {
  throw new Error(`unexpected overlap ${String(value)}`)
}
