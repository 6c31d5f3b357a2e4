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
})
