import type { RunnerDeps } from "./deps.ts"
import { extendRunLease } from "./run-lease.ts"

/**
 * Keeps the runner's lease on a run alive (Valkey score and `runs.lease_expires_at`) every third
 * of the lease (also while the run waits: the lease says the sandbox is still held), and looks
 * for a cancel request (`runs.cancel_requested_at`, set by the API) on the
 * way: the Valkey message may have been lost. If the run is no longer ours (another
 * runner recovered it after our lease lapsed), `onLost` stops the attempt.
 */
export function startHeartbeat(
  deps: RunnerDeps,
  run: { id: string; attempt: number },
  handlers: { onCancel(): void; onLost(): void },
): { stop(): void } {
  let stopped = false
  const beat = async () => {
    const deadline = new Date(Date.now() + deps.leaseMs)
    try {
      const rows = await deps.sql<{ cancelRequested: boolean }[]>`
        update runs set lease_expires_at = ${deadline}
        where id = ${run.id} and runner_id = ${deps.runnerId} and attempt = ${run.attempt}
          and status in ('starting', 'running', 'waiting', 'queued')
        returning cancel_requested_at is not null as cancel_requested`
      if (stopped) return
      const [row] = rows
      if (!row) {
        handlers.onLost()
        return
      }
      if (row.cancelRequested) handlers.onCancel()
      await extendRunLease(deps.valkey, deps.keys, run.id, deps.leaseMs)
    } catch (error) {
      // Postgres or Valkey down for a moment: the lease has two more beats of slack.
      deps.logger.warn({ err: error, runId: run.id }, "heartbeat failed")
    }
  }
  const timer = setInterval(() => void beat(), Math.max(50, Math.floor(deps.leaseMs / 3)))
  return {
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}
