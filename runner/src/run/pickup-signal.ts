/**
 * The run loop's idle wait, which a local event can cut short: when this runner frees a
 * concurrency slot and wakes a parked run, the run is at the front of the queue now, so the loop
 * leases at once instead of at its next poll. (Other runners still see it at their next poll;
 * push pickup replaces the polling altogether.)
 */
export interface PickupSignal {
  /** Ends every current wait now. */
  nudge(): void
  /** Resolves after `ms`, on a nudge, or when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void>
}

export function createPickupSignal(): PickupSignal {
  const waiters = new Set<() => void>()
  return {
    nudge() {
      for (const done of [...waiters]) done()
    },
    wait(ms, signal) {
      return new Promise((resolve) => {
        if (signal.aborted) return resolve()
        const timer = setTimeout(done, ms)
        function done() {
          clearTimeout(timer)
          signal.removeEventListener("abort", done)
          waiters.delete(done)
          resolve()
        }
        signal.addEventListener("abort", done)
        waiters.add(done)
      })
    },
  }
}
