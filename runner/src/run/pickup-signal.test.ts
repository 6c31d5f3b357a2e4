import { describe, expect, test } from "bun:test"
import { createPickupSignal } from "./pickup-signal.ts"

describe("pickup signal", () => {
  test("a nudge ends the wait early; without one it lasts its time", async () => {
    const pickup = createPickupSignal()
    const never = new AbortController().signal
    let ended = false
    const waiting = pickup.wait(60_000, never).then(() => {
      ended = true
    })
    expect(ended).toBe(false)
    pickup.nudge()
    await waiting
    expect(ended).toBe(true)
    const t0 = performance.now()
    await pickup.wait(30, never)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25)
  })

  test("an abort ends the wait", async () => {
    const pickup = createPickupSignal()
    const stop = new AbortController()
    const waiting = pickup.wait(60_000, stop.signal)
    stop.abort()
    await waiting
  })

  test("a nudge with no wait in progress ends the next wait at once (a wake-up during a lease)", async () => {
    const pickup = createPickupSignal()
    const never = new AbortController().signal
    pickup.nudge()
    const t0 = performance.now()
    await pickup.wait(60_000, never)
    expect(performance.now() - t0).toBeLessThan(1_000)
    // Used up: the wait after it lasts its time.
    const t1 = performance.now()
    await pickup.wait(30, never)
    expect(performance.now() - t1).toBeGreaterThanOrEqual(25)
  })

  test("wakeAt ends a wait at that time; a due time at once; the earliest pending time wins", async () => {
    const pickup = createPickupSignal()
    const never = new AbortController().signal
    const t0 = performance.now()
    const waiting = pickup.wait(60_000, never)
    pickup.wakeAt(Date.now() + 5_000)
    pickup.wakeAt(Date.now() + 80)
    pickup.wakeAt(Date.now() + 3_000)
    await waiting
    const waited = performance.now() - t0
    expect(waited).toBeGreaterThanOrEqual(70)
    expect(waited).toBeLessThan(2_500)
    const t1 = performance.now()
    const again = pickup.wait(60_000, never)
    pickup.wakeAt(Date.now() - 1)
    await again
    expect(performance.now() - t1).toBeLessThan(1_000)
    pickup.close()
  })
})
