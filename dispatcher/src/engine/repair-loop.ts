import { type EngineDeps, sleep } from "./deps.ts"
import { errorMessage } from "./errors.ts"
import { repairScheduleEntries, type ScheduleRepair } from "./repair.ts"
import { repairRunQueue, repairTimers } from "./repair-queues.ts"

export interface RepairReport extends ScheduleRepair {
  runsEnqueued: number
  timersAdded: number
}

/** One full repair of Valkey from Postgres; counts what it fixed. */
export async function repairAll(deps: EngineDeps): Promise<RepairReport> {
  const schedules = await repairScheduleEntries(deps)
  const runsEnqueued = await repairRunQueue(deps)
  const timersAdded = await repairTimers(deps)
  const report: RepairReport = { ...schedules, runsEnqueued, timersAdded }
  for (const [kind, count] of Object.entries(report)) {
    if (count > 0) deps.metrics.repairs.inc({ kind }, count)
  }
  if (Object.values(report).some((count) => count > 0)) {
    deps.logger.info(report, "repaired valkey from postgres")
  }
  return report
}

/**
 * Repairs at start and every `repairIntervalMs`. Dispatchers take turns through a lock that
 * expires by itself, so a repair happens about once a period however many dispatchers run, and
 * a dispatcher that dies holding it delays the next one by one period at most.
 */
export async function runRepairLoop(deps: EngineDeps, signal: AbortSignal): Promise<void> {
  const period = deps.settings.repairIntervalMs
  while (!signal.aborted) {
    try {
      const taken = await deps.valkey.set(
        deps.keys.repairLock,
        deps.settings.dispatcherId,
        "PX",
        Math.max(50, Math.floor(period * 0.9)),
        "NX",
      )
      if (taken === "OK") await repairAll(deps)
    } catch (error) {
      deps.metrics.errors.inc({ loop: "repair" })
      deps.logger.warn({ err: errorMessage(error) }, "repair failed")
    }
    await sleep(period, signal)
  }
}
