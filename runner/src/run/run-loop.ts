import { leaseRuns } from "@helmr/migrations/valkey"
import { runAttempt } from "./attempt.ts"
import { claimLeasedRun } from "./claim.ts"
import type { RunnerDeps } from "./deps.ts"
import { createSlot, type Slot } from "./parking.ts"
import { recoverOwnRuns, sweepStaleRuns } from "./recovery.ts"
import { adoptSandboxes, findResumable, resumeParked } from "./resume.ts"
import { sweepSandboxes } from "./sandbox-sweep.ts"
import { sweepWorkspaces } from "./workspace-sweep.ts"

export interface RunLoopOptions {
  /** Attempts this runner executes at once. */
  concurrency: number
  /** Idle wait between queue polls. */
  pollMs: number
  /** How often runs with a lapsed lease are looked for in Postgres. */
  sweepMs: number
  /** On shutdown, how long running attempts may finish before they are interrupted. */
  drainMs: number
}

export interface RunLoop {
  /** Runner slots in use: attempts in progress, waiting runs excluded. */
  active(): number
  /** Resolves once the loop stopped and every attempt ended (after `signal` aborted). */
  stopped: Promise<void>
}

/**
 * The runner's main loop: cleans up after a previous process of the same runner, then leases due
 * runs up to the concurrency limit and runs each attempt. On abort it stops leasing, lets running
 * attempts drain for `drainMs`, then interrupts the rest (they go back to the queue).
 */
export function startRunLoop(
  deps: RunnerDeps,
  options: RunLoopOptions,
  signal: AbortSignal,
): RunLoop {
  // Slots in use, by run id; a parked (waiting) attempt gives its slot back.
  const active = new Map<string, Promise<void>>()
  // Every attempt still going, parked or not, for the drain.
  const attempts = new Set<Promise<void>>()
  const interrupt = new AbortController()
  const log = deps.logger

  const hold = (runId: string, slot: Slot) => {
    const held: Promise<void> = slot.released.then(() => {
      if (active.get(runId) === held) active.delete(runId)
    })
    active.set(runId, held)
  }

  const launch = (runId: string) => {
    const leasedAt = performance.now()
    const slot = createSlot()
    hold(runId, slot)
    const work: Promise<void> = (async () => {
      const claimed = await claimLeasedRun(deps, runId)
      if (claimed === "resume") {
        if (!(await resumeParked(deps, runId, slot))) slot.release()
      } else if (claimed) {
        await runAttempt(deps, claimed, interrupt.signal, slot, leasedAt)
      }
    })()
      .catch((error: unknown) =>
        log.error({ err: error, runId }, "run attempt failed unexpectedly"),
      )
      .finally(() => {
        slot.release()
        attempts.delete(work)
      })
    attempts.add(work)
  }

  const launchResume = (runId: string) => {
    const slot = createSlot()
    hold(runId, slot)
    resumeParked(deps, runId, slot)
      .then((resumed) => {
        if (!resumed) slot.release()
      })
      .catch((error: unknown) => {
        slot.release()
        log.warn({ err: error, runId }, "resuming a waiting run failed")
      })
  }

  const loop = async () => {
    const kept = await adoptSandboxes(deps, interrupt.signal)
    const orphans = await deps.driver.removeOrphans(kept)
    const recovered = await recoverOwnRuns(deps)
    log.info({ ...orphans, recovered, adopted: kept.sandboxes.size }, "runner ready")
    let lastSweep = 0
    let engineWasUp = true
    while (!signal.aborted) {
      let leased: string[] = []
      try {
        // Waiting runs of this runner that are due again go first: their sandbox is up.
        const resumable = await findResumable(deps)
        for (const runId of resumable) {
          if (active.size >= options.concurrency) break
          if (!active.has(runId)) launchResume(runId)
        }
        const free = options.concurrency - active.size
        // While the engine does not answer, runs stay queued (for another runner, or for later)
        // rather than each failing its attempts here.
        const engineUp = free > 0 && (await deps.driver.ready())
        if (free > 0 && engineUp !== engineWasUp) {
          engineWasUp = engineUp
          if (engineUp) log.info("the container engine answers again: taking runs")
          else log.warn("the container engine does not answer: taking no runs until it does")
        }
        if (engineUp)
          leased = await leaseRuns(deps.valkey, deps.keys, { leaseMs: deps.leaseMs, limit: free })
        for (const runId of leased) if (!active.has(runId)) launch(runId)
        if (Date.now() - lastSweep > options.sweepMs) {
          lastSweep = Date.now()
          // Runs this process is still running are alive whatever their lease says (a Postgres
          // outage longer than the lease stopped the heartbeat): their next beat renews it.
          const swept = await sweepStaleRuns(deps, new Set(active.keys()))
          if (swept > 0) log.info({ swept }, "recovered runs whose runner stopped")
          const sandboxes = await sweepSandboxes(deps)
          if (sandboxes > 0) log.info({ sandboxes }, "removed sandboxes of attempts that ended")
          const workspaces = await sweepWorkspaces(deps)
          if (workspaces > 0) log.info({ workspaces }, "removed workspaces of finished sessions")
        }
      } catch (error) {
        log.warn({ err: error }, "run loop: polling failed")
      }
      if (leased.length === 0 || active.size >= options.concurrency)
        await deps.pickup.wait(options.pollMs, signal)
    }
    const all = () => Promise.all(attempts)
    if (attempts.size > 0) {
      log.info({ active: active.size, parked: deps.parked.size }, "draining running attempts")
      // A cleared timer: a pending one would keep the stopping process alive for the whole drain.
      let drain: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        Promise.all(active.values()),
        new Promise<void>((resolve) => {
          drain = setTimeout(resolve, options.drainMs)
        }),
      ])
      clearTimeout(drain)
      // Running attempts are interrupted (retried); parked ones detach, their sandboxes stay.
      interrupt.abort()
      await all()
    }
  }

  return { active: () => active.size, stopped: loop() }
}
