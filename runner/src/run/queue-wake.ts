import type { Sql } from "@helmr/migrations/db"
import { RUN_WOKEN_CHANNEL } from "@helmr/migrations/queries/child-waits"
import { parseRunWake, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import type { PickupSignal } from "./pickup-signal.ts"

/**
 * Push pickup: a subscriber connection of its own on the run queue's wake channel. Every enqueue
 * publishes the earliest time it wrote; a due one nudges the run loop at once, a later one sets
 * its wake-up time. While the connection is down messages are lost, so each (re)connection
 * nudges the loop to look at the queue; anything else lost is found by the loop's safety recheck.
 * Ends (and disconnects) when `signal` aborts.
 */
export function watchRunQueue(
  valkey: Valkey,
  keys: ValkeyKeys,
  pickup: PickupSignal,
  logger: Logger,
  signal: AbortSignal,
): void {
  const subscriber = valkey.duplicate({ connectionName: "helmr-runner-wake" })
  subscriber.on("message", (_channel: string, message: string) => {
    const at = parseRunWake(message)
    if (at === null) pickup.nudge()
    else pickup.wakeAt(at)
  })
  subscriber.on("ready", () => pickup.nudge())
  subscriber.on("error", (error: unknown) =>
    logger.warn({ err: error }, "run queue wake-ups: Valkey error"),
  )
  subscriber
    .subscribe(keys.runWake)
    .catch((error: unknown) => logger.warn({ err: error }, "run queue wake-ups: subscribe failed"))
  signal.addEventListener(
    "abort",
    () => {
      pickup.close()
      subscriber.disconnect()
    },
    { once: true },
  )
}

/**
 * Push resume of waiting runs: a parent woken by its child's end is queued again in Postgres only
 * (the child may end in any service's transaction, child-waits.ts), and that commit notifies
 * RUN_WOKEN_CHANNEL. A notice for a run parked here nudges the run loop, which resumes it. Each
 * (re)listen nudges it too: what was woken while the connection was down is found by that look,
 * and anything else lost by the loop's safety recheck. Stops listening when `signal` aborts.
 */
export function watchWokenRuns(
  sql: Sql,
  parked: ReadonlyMap<string, unknown>,
  pickup: PickupSignal,
  logger: Logger,
  signal: AbortSignal,
): void {
  sql
    .listen(
      RUN_WOKEN_CHANNEL,
      (runId) => {
        if (parked.has(runId)) pickup.nudge()
      },
      () => pickup.nudge(),
    )
    .then(({ unlisten }) => {
      if (signal.aborted) return unlisten()
      signal.addEventListener("abort", () => void unlisten().catch(() => {}), { once: true })
    })
    .catch((error: unknown) =>
      logger.warn({ err: error }, "woken runs: listen failed; the safety recheck finds them"),
    )
}
