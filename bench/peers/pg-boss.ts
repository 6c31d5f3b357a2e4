import { PgBoss } from "pg-boss"
import {
  CONCURRENCY,
  dueOf,
  type Peer,
  QUEUE,
  scheduleData,
  scheduleId,
  scheduleOf,
} from "./peer.ts"

/**
 * pg-boss: delayed jobs (`startAfter`) and `schedule()` (one schedule per `key`), whose cron
 * passes run in the worker's instance (the producer's has `schedule: false`). Concurrency 100 is
 * one worker fetching batches of 100 whose handler starts every job of the batch, with
 * `burstWhenBatchFull` so a full batch is followed by the next fetch at once rather than after a
 * poll interval (pg-boss's documented way to drain a backlog). Recommended: the default polls
 * (`pollingIntervalSeconds` 2, cron passes every 30 s, cron jobs fetched every 5 s). Fast: 0.5 s
 * polling and cron passes and cron fetches every 1 s (the least pg-boss accepts).
 */
const settings = (fast: boolean) =>
  fast
    ? {
        polling: { pollingIntervalSeconds: 0.5 },
        cron: { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
      }
    : { polling: {}, cron: {} }

export const pgBoss: Peer = {
  id: "pg-boss",
  settings: (fast) =>
    fast
      ? `batchSize ${CONCURRENCY} + burstWhenBatchFull; polling 0.5 s, cron monitor and cron worker 1 s`
      : `batchSize ${CONCURRENCY} + burstWhenBatchFull; defaults (polling 2 s, cron monitor 30 s, cron worker 5 s)`,
  async producer(target) {
    const boss = new PgBoss({
      connectionString: target.databaseUrl,
      schedule: false,
      supervise: false,
    })
    boss.on("error", (error) => process.stderr.write(`pg-boss producer: ${String(error)}\n`))
    await boss.start()
    await boss.createQueue(QUEUE)
    return {
      async addDelayed(count, due) {
        for (let i = 0; i < count; i += 1_000) {
          const startAfter = new Date(due)
          const jobs = Array.from({ length: Math.min(1_000, count - i) }, () => ({
            data: { due },
            startAfter,
          }))
          await boss.insert(QUEUE, jobs)
        }
      },
      async schedule(count) {
        for (let i = 0; i < count; i++) {
          await boss.schedule(QUEUE, "* * * * *", scheduleData(i), { key: scheduleId(i) })
        }
      },
      async unschedule(count) {
        for (let i = 0; i < count; i++) await boss.unschedule(QUEUE, scheduleId(i))
      },
      async close() {
        await boss.stop({ graceful: false })
      },
    }
  },
  async work(target, onStart) {
    const { polling, cron } = settings(target.fast)
    const boss = new PgBoss({ connectionString: target.databaseUrl, ...cron })
    boss.on("error", (error) => process.stderr.write(`pg-boss worker: ${String(error)}\n`))
    await boss.start()
    await boss.work(
      QUEUE,
      { batchSize: CONCURRENCY, burstWhenBatchFull: true, ...polling },
      async (jobs) => {
        // A schedule's job does not carry its slot (the pass keeps it for its own bookkeeping).
        for (const job of jobs) onStart(dueOf(job.data), scheduleOf(job.data))
      },
    )
    return async () => {
      await boss.stop({ graceful: true, timeout: 5_000 })
    }
  },
}
