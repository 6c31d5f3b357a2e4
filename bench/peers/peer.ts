/**
 * What bench/peers asks of each peer job system: a producer (in the bench's process) that adds
 * delayed jobs and every-minute schedules, and a worker (in a process of its own, worker.ts) whose
 * no-op handler reports when it started each job.
 */

export interface PeerTarget {
  /** A fresh database of this system's own (Postgres peers). */
  databaseUrl: string
  redisUrl: string
  /** A Redis key prefix of this system's own (BullMQ). */
  prefix: string
  /** The fast-poll variant (0.5 s) instead of the system's recommended settings. */
  fast: boolean
}

export interface Producer {
  /** Adds `count` delayed jobs, all due at `due` (epoch ms); each job's data carries `due`. */
  addDelayed(count: number, due: number): Promise<void>
  /** Adds `count` schedules of `* * * * *` (the system's own cron feature). */
  schedule(count: number): Promise<void>
  /** Removes the schedules `schedule` added. */
  unschedule(count: number): Promise<void>
  close(): Promise<void>
}

/**
 * Called by the no-op handler as it starts a job: the instant the job was due, where the job
 * tells (the burst's data; the slot of a schedule's job where the system records it), and the
 * schedule's index for a schedule's job (from the data each schedule was given).
 */
export type OnStart = (due: number | undefined, schedule: number | undefined) => void

export interface Peer {
  id: PeerId
  /** The settings of a variant, as printed in the table and docs. */
  settings(fast: boolean): string
  producer(target: PeerTarget): Promise<Producer>
  /** Starts a worker (concurrency 100) in this process; resolves with its stop function. */
  work(target: PeerTarget, onStart: OnStart): Promise<() => Promise<void>>
}

export const PEER_IDS = ["bullmq", "pg-boss", "graphile-worker"] as const
export type PeerId = (typeof PEER_IDS)[number]

export const CONCURRENCY = 100
/** The queue, task and job name every peer uses. */
export const QUEUE = "noop"
export const scheduleId = (i: number) => `every-minute-${i}`
/** The data each schedule's jobs carry. */
export const scheduleData = (i: number) => ({ schedule: i })

function numberIn(data: unknown, key: string): number | undefined {
  if (typeof data !== "object" || data === null) return undefined
  const value = (data as Record<string, unknown>)[key]
  return typeof value === "number" ? value : undefined
}

/** A job's data: `due` for the delayed jobs of the burst, nothing for a schedule's jobs. */
export const dueOf = (data: unknown) => numberIn(data, "due")
/** A job's data: the schedule's index for a schedule's job (scheduleData). */
export const scheduleOf = (data: unknown) => numberIn(data, "schedule")
