import { summarize } from "@helmr/bench-schedules/stats"

/** The figures of one system under one setting, and how they are computed from raw times. */

export interface BurstFigures {
  /** Jobs whose handler started (or runs leased) of `expected`. */
  count: number
  expected: number
  p50: number
  p99: number
  /** Due instant → the last handler start. */
  last: number
  /** count / (last in seconds): jobs started per second from the due instant. */
  perSecond: number
}

export interface CronFigures {
  count: number
  expected: number
  p50: number
  p99: number
  max: number
}

export interface Row {
  system: string
  version: string
  settings: string
  burst?: BurstFigures
  cron?: CronFigures
}

export const MINUTE = 60_000

export function burstFigures(lateness: readonly number[], expected: number): BurstFigures {
  const s = summarize(lateness)
  return {
    count: s.count,
    expected,
    p50: s.p50,
    p99: s.p99,
    last: s.max,
    perSecond: s.count / (Math.max(s.max, 1) / 1000),
  }
}

export function cronFigures(lateness: readonly number[], expected: number): CronFigures {
  const s = summarize(lateness)
  return { count: s.count, expected, p50: s.p50, p99: s.p99, max: s.max }
}

/**
 * Lateness of a schedule's job started at `at`, when its job carries no slot: the minute it
 * belongs to is the one it started in (every system here fires a minute's slot well within that
 * minute). Undefined for a start outside the measured slots `[first, last]`.
 */
export function cronLateness(at: number, first: number, last: number): number | undefined {
  const slot = Math.floor(at / MINUTE) * MINUTE
  return slot < first || slot > last ? undefined : at - slot
}

/** The next minute boundary at least `marginMs` after `now`. */
export function nextMinute(now: number, marginMs: number): number {
  return Math.ceil((now + marginMs) / MINUTE) * MINUTE
}

/** Resolves once `done()` holds or `deadline` (epoch ms) passed. */
export async function waitUntil(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await Bun.sleep(50)
}
