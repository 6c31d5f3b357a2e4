/**
 * The run loop's idle wait. It ends at its deadline, on a nudge (a wake-up on the queue's channel,
 * a slot freed here, a parked run woken), or at a due time announced with `wakeAt` (a delayed
 * run was enqueued). A nudge that comes while the loop is busy is kept for its next wait, so a
 * run enqueued between a lease that found nothing and the wait is never left for the recheck.
 */
export interface PickupSignal {
  /** Ends the current wait now (or the next one, when none is in progress). */
  nudge(): void
  /** Nudges at epoch ms `at` (at once when it is due); the earliest pending time wins. */
  wakeAt(at: number): void
  /** Resolves after `ms`, on a nudge, or when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void>
  /** Clears the pending timer (the loop stopped). */
  close(): void
}

export function createPickupSignal(now: () => number = Date.now): PickupSignal {
  const waiters = new Set<() => void>()
  let pending = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Number.POSITIVE_INFINITY

  const nudge = () => {
    if (waiters.size === 0) pending = true
    for (const done of [...waiters]) done()
  }

  return {
    nudge,
    wakeAt(at) {
      const delay = at - now()
      if (delay <= 0) return nudge()
      // A later time needs no timer of its own: the loop looks at the queue when this one fires.
      if (at >= timerAt) return
      clearTimeout(timer)
      timerAt = at
      timer = setTimeout(() => {
        timerAt = Number.POSITIVE_INFINITY
        nudge()
      }, delay)
    },
    wait(ms, signal) {
      return new Promise((resolve) => {
        if (signal.aborted || pending) {
          pending = false
          return resolve()
        }
        const timeout = setTimeout(done, ms)
        function done() {
          clearTimeout(timeout)
          signal.removeEventListener("abort", done)
          waiters.delete(done)
          resolve()
        }
        signal.addEventListener("abort", done)
        waiters.add(done)
      })
    },
    close() {
      clearTimeout(timer)
      timerAt = Number.POSITIVE_INFINITY
    },
  }
}
