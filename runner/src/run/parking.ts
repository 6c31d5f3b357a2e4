/**
 * A runner slot (one of `HELMR_RUNNER_CONCURRENCY`) and the attempts that gave theirs up while
 * their run waits. A waiting run holds no slot: its attempt releases the slot and registers here;
 * when the run comes back `queued`, the run loop takes a free slot and hands it to `resume`.
 */

export interface Slot {
  /** Gives the slot back (idempotent). */
  release(): void
  readonly released: Promise<void>
}

export function createSlot(): Slot {
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  return { release, released }
}

/**
 * Wakes the run loop from its idle sleep (a parked run may be due again), so a resume does not
 * wait for the next poll.
 */
export interface LoopWake {
  notify(): void
  /** The sleeper `notify` ends (null: none sleeps); one at a time, the run loop's. */
  onNotify(sleeper: (() => void) | null): void
}

export function createLoopWake(): LoopWake {
  let sleeper: (() => void) | null = null
  return {
    notify: () => sleeper?.(),
    onNotify(next) {
      sleeper = next
    },
  }
}

export interface ParkedAttempt {
  attempt: number
  /** Called once the run moved `queued → running` for this runner again. */
  resume(slot: Slot): void
}
