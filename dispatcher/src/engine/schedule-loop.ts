import { parseEntryToken } from "@helmr/migrations/valkey"
import { type EngineDeps, sleep } from "./deps.ts"
import { errorMessage } from "./errors.ts"
import { fireLeases } from "./fire.ts"
import { earliestScheduleDue, type LeasedEntry, leaseScheduleEntries } from "./schedule-leases.ts"

/**
 * Leases due schedule entries and fires them, up to `concurrency` batches in flight. Idle, it
 * sleeps until the earliest entry is due, but never longer than `pollMs`, so an entry written
 * meanwhile (an API create) is seen that soon. On abort it stops leasing and waits for the
 * batches in flight: nothing it leased is left half-fired.
 */
export async function runScheduleLoop(deps: EngineDeps, signal: AbortSignal): Promise<void> {
  const { settings } = deps
  const inFlight = new Set<Promise<void>>()
  let failures = 0
  while (!signal.aborted) {
    if (inFlight.size >= settings.concurrency) {
      await Promise.race(inFlight)
      continue
    }
    try {
      // Entries due within the prefetch window are leased now and staged (fire.ts).
      const leases = await leaseScheduleEntries(deps.valkey, deps.keys, {
        now: deps.now() + settings.prefetchMs,
        leaseMs: settings.leaseMs,
        limit: settings.batchSize,
      })
      failures = 0
      for (const group of groupBySlot(leases)) {
        // Distinct slots make distinct transactions: never more than `concurrency` at once.
        while (inFlight.size >= settings.concurrency) await Promise.race(inFlight)
        const batch: Promise<void> = fireLeases(deps, group)
          .catch((error: unknown) => {
            deps.metrics.errors.inc({ loop: "fire" })
            deps.logger.error({ err: errorMessage(error) }, "fire batch failed")
          })
          .finally(() => inFlight.delete(batch))
        inFlight.add(batch)
      }
      // A full batch means more may be due right now: lease again at once.
      if (leases.length >= settings.batchSize) continue
      const earliest = await earliestScheduleDue(deps.valkey, deps.keys)
      const wait =
        earliest === null
          ? settings.pollMs
          : Math.min(settings.pollMs, earliest - settings.prefetchMs - deps.now())
      if (wait > 0) await Promise.race([sleep(wait, signal), ...inFlight])
    } catch (error) {
      failures++
      deps.metrics.errors.inc({ loop: "schedules" })
      if (failures === 1 || failures % 50 === 0) {
        deps.logger.warn({ err: errorMessage(error), failures }, "cannot lease schedule entries")
      }
      await sleep(Math.min(settings.pollMs * 2 ** Math.min(failures, 6), 2_000), signal)
    }
  }
  await Promise.allSettled(inFlight)
}

/**
 * One transaction per slot time: a staged batch commits at its slot, so entries of different
 * slots must not wait for each other. (Slots cluster on whole minutes: groups stay large.)
 */
export function groupBySlot(leases: readonly LeasedEntry[]): LeasedEntry[][] {
  const groups = new Map<number, LeasedEntry[]>()
  for (const lease of leases) {
    const slot = parseEntryToken(lease.token)?.slot.getTime() ?? 0
    const group = groups.get(slot)
    if (group) group.push(lease)
    else groups.set(slot, [lease])
  }
  return [...groups.values()]
}
