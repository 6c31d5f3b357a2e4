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

export interface ParkedAttempt {
  attempt: number
  /** Called once the run moved `queued → running` for this runner again. */
  resume(slot: Slot): void
}
