import { type CompiledCron, parseCron } from "@helmr/sdk/contract"

/**
 * The dispatcher's view of a cron: the grammar is the contract's (`parseCron`, shared with the SDK
 * and the API); this file caches compiled crons and answers "does this local day match". The walk
 * over local time is occurrences.ts (see docs/ARCHITECTURE.md for why it is ours).
 */
export type { CompiledCron }

export class CronSyntaxError extends Error {
  override name = "CronSyntaxError"
}

// A hundred distinct crons per schedule would be unusual; this only bounds memory.
const cache = new Map<string, CompiledCron>()

/** Compiles a 5-field cron, throwing CronSyntaxError with the contract's message. */
export function compileCron(cron: string): CompiledCron {
  const cached = cache.get(cron)
  if (cached) return cached
  const parsed = parseCron(cron)
  if (!parsed.ok) throw new CronSyntaxError(parsed.message)
  if (cache.size >= 10_000) cache.clear()
  cache.set(cron, parsed.cron)
  return parsed.cron
}

/** Whether the local calendar day (year, month 1–12, day) is one the cron runs on. */
export function matchesDay(cron: CompiledCron, year: number, month: number, day: number): boolean {
  if (!cron.months[month]) return false
  const dom = cron.daysOfMonth[day] === true
  const dow = cron.daysOfWeek[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] === true
  if (cron.domRestricted && cron.dowRestricted) return dom || dow
  return dom && dow
}
