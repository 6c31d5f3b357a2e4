import { summarize } from "@helmr/bench-stats"

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

/** A job's start as a worker reported it (see OnStart in peer.ts). */
export interface Start {
  due: number | undefined
  at: number
  schedule: number | undefined
}

/**
 * Lateness of the schedules' jobs for the every-minute slots `first`..`last`. A job that names
 * its slot counts against it. A job that does not (pg-boss's) counts against its schedule's
 * earliest slot not yet counted that lies before its start: the k-th start of a schedule from
 * `first` on is its k-th slot. So a lost slot shows as a following fire a minute (or more) late,
 * and a second start before the next slot (a duplicate) is not counted.
 */
export function cronLatenesses(starts: readonly Start[], first: number, last: number): number[] {
  const late: number[] = []
  const unnamed = new Map<number, number[]>()
  for (const s of starts) {
    if (s.schedule === undefined) continue
    if (s.due === undefined) unnamed.set(s.schedule, [...(unnamed.get(s.schedule) ?? []), s.at])
    else if (s.due >= first && s.due <= last) late.push(s.at - s.due)
  }
  for (const ats of unnamed.values()) {
    let slot = first
    for (const at of ats.sort((a, b) => a - b)) {
      if (slot > last) break
      if (at < slot) continue
      late.push(at - slot)
      slot += MINUTE
    }
  }
  return late
}

/** The next minute boundary at least `marginMs` after `now`. */
export function nextMinute(now: number, marginMs: number): number {
  return Math.ceil((now + marginMs) / MINUTE) * MINUTE
}

/** Resolves once `done()` holds or `deadline` (epoch ms) passed. */
export async function waitUntil(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await Bun.sleep(50)
}
