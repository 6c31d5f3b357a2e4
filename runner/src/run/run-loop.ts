import { leaseRunBatch } from "@helmr/migrations/valkey"
import { startDeploymentBuilds } from "../build/deployment-builds.ts"
import { runAttempt } from "./attempt.ts"
import { CLAIM_BATCH, claimLeasedRuns } from "./claim.ts"
import type { RunnerDeps } from "./deps.ts"
import { createSlot, type Slot } from "./parking.ts"
import { watchRunQueue, watchWokenRuns } from "./queue-wake.ts"
import { recoverOwnRuns, sweepStaleRuns } from "./recovery.ts"
import { adoptSandboxes, findResumable, resumeParked } from "./resume.ts"
import { sweepSandboxes } from "./sandbox-sweep.ts"
import { sweepWorkspaces } from "./workspace-sweep.ts"

export interface RunLoopOptions {
  /** Attempts this runner executes at once. */
  concurrency: number
  /** The most runs leased and claimed in one round trip (default CLAIM_BATCH). */
  claimBatch?: number
  /**
   * `push` (default): an idle runner waits for a wake-up on the queue's channel, the next due run
   * or `recheckMs`, whichever comes first. `poll`: it looks at the queue every `pollMs` (the
   * behaviour before push pickup, kept as the benchmarks' baseline).
   */
  pickup?: "push" | "poll"
  /** Idle wait between queue polls (poll mode). */
  pollMs: number
  /** Push mode: the longest idle wait without a wake-up, a safety net for lost messages. */
  recheckMs?: number
  /** How often runs with a lapsed lease are looked for in Postgres. */
  sweepMs: number
  /** On shutdown, how long running attempts may finish before they are interrupted. */
  drainMs: number
  /** Idle wait between looks for a deployment to build (deploy-time builds; default 1 s). */
  buildPollMs?: number
}

export interface RunLoop {
  /** Runner slots in use: attempts in progress, waiting runs excluded. */
  active(): number
  /** Resolves once the loop stopped and every attempt ended (after `signal` aborted). */
  stopped: Promise<void>
}

/**
 * The runner's main loop: cleans up after a previous process of the same runner, then leases due
 * runs up to the concurrency limit and runs each attempt; beside it, the deployment build loop. On abort it stops leasing, lets running
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

  const push = (options.pickup ?? "push") === "push"
  const recheckMs = options.recheckMs ?? 5_000
  if (push) {
    watchRunQueue(deps.valkey, deps.keys, deps.pickup, log, signal)
    watchWokenRuns(deps.sql, deps.parked, deps.pickup, log, signal)
  }

  const hold = (runId: string, slot: Slot) => {
    const held: Promise<void> = slot.released.then(() => {
      if (active.get(runId) === held) active.delete(runId)
      // A slot came free: a full loop leases at once instead of at its next look.
      deps.pickup.nudge()
    })
    active.set(runId, held)
  }

  // A leased batch is claimed in one go (claimLeasedRuns); each run holds its slot from the lease.
  const launch = (runIds: readonly string[]) => {
    const leasedAt = performance.now()
    const slots = new Map(runIds.map((runId) => [runId, createSlot()]))
    for (const [runId, slot] of slots) hold(runId, slot)
    const claiming = claimLeasedRuns(deps, runIds)
    for (const [runId, slot] of slots) {
      const work: Promise<void> = (async () => {
        const { claimed, resume } = await claiming
        const run = claimed.find((r) => r.id === runId)
        if (resume.includes(runId)) {
          if (!(await resumeParked(deps, runId, slot))) slot.release()
        } else if (run) {
          await runAttempt(deps, run, interrupt.signal, slot, leasedAt)
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

  // Push: until the next due run, the next sweep or the safety recheck, unless woken earlier.
  // A full runner ignores the queue's due times: a freed slot nudges it.
  const idleWait = (nextDueAt: number | null, lastSweep: number): number => {
    if (!push) return options.pollMs
    const now = Date.now()
    // Parked runs need no poll: a wait's completer enqueues its run or, for a child's end,
    // notifies its commit (watchWokenRuns).
    let until = Math.min(now + recheckMs, lastSweep + options.sweepMs)
    if (nextDueAt !== null && active.size < options.concurrency) until = Math.min(until, nextDueAt)
    return Math.max(0, until - now)
  }

  const loop = async () => {
    const kept = await adoptSandboxes(deps, interrupt.signal)
    const orphans = await deps.driver.removeOrphans(kept)
    const recovered = await recoverOwnRuns(deps)
    log.info({ ...orphans, recovered, adopted: kept.sandboxes.size }, "runner ready")
    // Started only now: removeOrphans above clears the warm sandboxes of a previous process.
    const warm = deps.warm?.run(signal)
    let lastSweep = 0
    let engineWasUp = true
    while (!signal.aborted) {
      let leased: string[] = []
      // When the next run in the queue comes due (push mode sleeps until then at most).
      let nextDueAt: number | null = null
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
        if (engineUp) {
          const batch = await leaseRunBatch(deps.valkey, deps.keys, {
            leaseMs: deps.leaseMs,
            // More free slots than a batch: the loop comes straight back for the next one.
            limit: Math.min(free, options.claimBatch ?? CLAIM_BATCH),
          })
          leased = batch.runIds
          nextDueAt = batch.nextDueAt
        }
        launch(leased.filter((runId) => !active.has(runId)))
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
        log.warn({ err: error }, "run loop: leasing failed")
        // Valkey or Postgres is away: try again soon, not at the recheck.
        await deps.pickup.wait(options.pollMs, signal)
        continue
      }
      if (leased.length === 0 || active.size >= options.concurrency)
        await deps.pickup.wait(idleWait(nextDueAt, lastSweep), signal)
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
    // The pool removes its warm sandboxes meanwhile (it stopped with `signal`).
    await warm
  }

  // Deploy-time builds run beside the runs, one deployment at a time (deployment-builds.ts).
  const builds = startDeploymentBuilds(deps, { pollMs: options.buildPollMs ?? 1_000 }, signal)
  return { active: () => active.size, stopped: Promise.all([loop(), builds]).then(() => {}) }
}
