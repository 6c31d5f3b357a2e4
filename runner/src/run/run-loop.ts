import { leaseRuns } from "@helmr/migrations/valkey"
import { runAttempt } from "./attempt.ts"
import { claimLeasedRun } from "./claim.ts"
import type { RunnerDeps } from "./deps.ts"
import { recoverOwnRuns, sweepStaleRuns } from "./recovery.ts"
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
  /** Attempts in progress. */
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
  const active = new Map<string, Promise<void>>()
  const interrupt = new AbortController()
  const log = deps.logger

  const launch = (runId: string) => {
    const leasedAt = performance.now()
    const work = (async () => {
      const run = await claimLeasedRun(deps, runId)
      if (run) await runAttempt(deps, run, interrupt.signal, leasedAt)
    })()
      .catch((error: unknown) =>
        log.error({ err: error, runId }, "run attempt failed unexpectedly"),
      )
      .finally(() => active.delete(runId))
    active.set(runId, work)
  }

  const loop = async () => {
    const orphans = await deps.driver.removeOrphans()
    const recovered = await recoverOwnRuns(deps)
    log.info({ ...orphans, recovered }, "runner ready")
    let lastSweep = 0
    while (!signal.aborted) {
      let leased: string[] = []
      try {
        const free = options.concurrency - active.size
        if (free > 0)
          leased = await leaseRuns(deps.valkey, deps.keys, { leaseMs: deps.leaseMs, limit: free })
        for (const runId of leased) if (!active.has(runId)) launch(runId)
        if (Date.now() - lastSweep > options.sweepMs) {
          lastSweep = Date.now()
          const swept = await sweepStaleRuns(deps)
          if (swept > 0) log.info({ swept }, "recovered runs whose runner stopped")
          const workspaces = await sweepWorkspaces(deps)
          if (workspaces > 0) log.info({ workspaces }, "removed workspaces of finished sessions")
        }
      } catch (error) {
        log.warn({ err: error }, "run loop: polling failed")
      }
      if (leased.length === 0 || active.size >= options.concurrency)
        await deps.pickup.wait(options.pollMs, signal)
    }
    const all = () => Promise.all(active.values())
    if (active.size > 0) {
      log.info({ active: active.size }, "draining running attempts")
      await Promise.race([all(), Bun.sleep(options.drainMs)])
      interrupt.abort()
      await all()
    }
  }

  return { active: () => active.size, stopped: loop() }
}
