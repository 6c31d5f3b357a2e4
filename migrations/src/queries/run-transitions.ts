import type { RunStatus } from "../rows.ts"

/**
 * The run state machine, owned here for every service: `transitionRun` (runs.ts, the only query
 * that writes `runs.status` after insert) refuses any move this table does not list. DESIGN.md:
 * `queued → starting → running ⇄ waiting →` a final status; a retry or a runner shutdown goes
 * back to `queued`; a run whose ttl passes before it starts is `expired`. Final statuses have no
 * way out. Pure: no I/O.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  // Claimed by a runner, canceled before it starts, or past its ttl. A waiting run queued again
  // (its wait completed) is resumed by the runner holding its sandbox (running), or, its sandbox
  // lost with no attempt left, crashed (docs/runtime.md).
  queued: ["starting", "canceled", "expired", "running", "crashed"],
  // The sandbox starts (running), or the attempt ends before the task ran: a build failure, a
  // cancel, a lost sandbox, a runner shutdown or a retry.
  starting: ["running", "queued", "failed", "canceled", "timed_out", "crashed"],
  // Only a running task can succeed or start waiting.
  running: ["waiting", "queued", "succeeded", "failed", "canceled", "timed_out", "crashed"],
  // A wait ends by going back to the queue (the runner holding the living sandbox resumes it), or
  // the run ends while it waits: canceled, or the task returned, threw or its sandbox died while
  // a wait it no longer awaited was pending.
  waiting: ["queued", "canceled", "succeeded", "failed", "timed_out", "crashed"],
  succeeded: [],
  failed: [],
  canceled: [],
  timed_out: [],
  crashed: [],
  expired: [],
}

/** Whether the state machine allows moving a run from `from` to `to`. */
export function canTransitionRun(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to)
}

/** A caller asked for a move the state machine forbids: a bug in the caller, never bad input. */
export class RunTransitionError extends Error {
  override name = "RunTransitionError"
  constructor(
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    super(`a run cannot move from ${from} to ${to}`)
  }
}

/** Throws RunTransitionError unless every status in `from` may move to `to`. */
export function assertRunTransitions(from: readonly RunStatus[], to: RunStatus): void {
  for (const status of from) {
    if (!canTransitionRun(status, to)) throw new RunTransitionError(status, to)
  }
}
