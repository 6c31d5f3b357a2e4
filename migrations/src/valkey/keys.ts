/**
 * Every Valkey key Helmr uses, built in one place. Valkey holds replaceable hints only: losing all
 * of it loses nothing, the dispatcher rebuilds it from Postgres.
 *
 * `prefix` isolates deployments sharing one Valkey (and each test file: `helmr-t-<random>`).
 */
export function valkeyKeys(prefix = "helmr") {
  return {
    prefix,
    /** zset: schedule instance id → next fire (epoch ms); one entry per active instance. */
    scheduleDue: `${prefix}:sched:due`,
    /**
     * hash: schedule instance id → `<version>:<slot ms>[:<failed attempts>]`, the token of what
     * the due entry stands for. A dispatcher leases an entry by moving its `scheduleDue` score to
     * the lease deadline and completes it only if the token is unchanged (schedule-leases.ts).
     */
    scheduleEntry: `${prefix}:sched:entry`,
    /**
     * zset: `wait:<waitpoint id>` (a timed wait's resume time) or `expire:<run id>` (a queued
     * run's ttl) → due time, epoch ms. Leased like the run queue; rebuilt from Postgres by repair.
     */
    timers: `${prefix}:timers:due`,
    /** string with a TTL: which dispatcher runs the periodic repair now (one at a time). */
    repairLock: `${prefix}:dispatcher:repair`,
    /**
     * zset: run id → time it may start (epoch ms). Delays and retry backoffs are just later
     * scores. Leasing a run moves its score to the lease deadline, so a run whose runner dies
     * becomes due again by itself.
     */
    runQueue: `${prefix}:runs:queue`,
    /**
     * pub/sub channel: runs were put in `runQueue` (message: the earliest score written, epoch
     * ms). Idle runners wait on it instead of polling; a lost message costs a delay of at most
     * the runner's safety recheck, never the run.
     */
    runWake: `${prefix}:runs:wake`,
    /**
     * zset: run id → creation time (epoch ms), the queued runs of one concurrency gate
     * (environment, queue, concurrency key) found over its limit. A run leaving `starting` or
     * `running` of that gate moves the oldest back to `runQueue` at once. A hint only: the parked
     * runs stay in `runQueue` (scored later), and repair puts lost ones back.
     */
    runGateParked: (gate: string) => `${prefix}:runs:parked:${gate}`,
    /** pub/sub channel: a run changed (new events, cancel requested). */
    runChannel: (runId: string) => `${prefix}:runs:changed:${runId}`,
    /** pub/sub channel: chunks were appended to a stream of the session (message: stream name). */
    sessionChannel: (sessionId: string) => `${prefix}:sessions:changed:${sessionId}`,
    /** Rate-limit window of one API key. */
    rateLimit: (keyId: string, window: number) => `${prefix}:ratelimit:${keyId}:${window}`,
    /** counter with a TTL: dashboard sign-in attempts for one email in one window. */
    signInAttempts: (email: string, window: number) =>
      `${prefix}:dashboard:signin:${email}:${window}`,
  }
}

export type ValkeyKeys = ReturnType<typeof valkeyKeys>
