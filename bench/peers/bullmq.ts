import { Queue, Worker } from "bullmq"
import { Redis } from "ioredis"
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
 * BullMQ: delayed jobs (`delay`) and job schedulers (`upsertJobScheduler` with a cron pattern).
 * A worker does not poll: it blocks on the queue's marker until the next delayed job is due, so
 * its one timing knob is `drainDelay` (how long a blocking wait lasts while the queue is empty,
 * default 5 s); the fast variant sets it to 0.5 s.
 */
const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null })

export const bullmq: Peer = {
  id: "bullmq",
  settings: (fast) =>
    fast
      ? `concurrency ${CONCURRENCY}, drainDelay 0.5 s`
      : `concurrency ${CONCURRENCY}, defaults (drainDelay 5 s)`,
  async producer(target) {
    const connection = connect(target.redisUrl)
    const queue = new Queue(QUEUE, { connection, prefix: target.prefix })
    return {
      async addDelayed(count, due) {
        for (let i = 0; i < count; i += 1_000) {
          const delay = due - Date.now()
          const jobs = Array.from({ length: Math.min(1_000, count - i) }, () => ({
            name: QUEUE,
            data: { due },
            opts: { delay, removeOnComplete: true },
          }))
          await queue.addBulk(jobs)
        }
      },
      async schedule(count) {
        for (let i = 0; i < count; i++) {
          await queue.upsertJobScheduler(
            scheduleId(i),
            { pattern: "* * * * *" },
            { name: QUEUE, data: scheduleData(i), opts: { removeOnComplete: true } },
          )
        }
      },
      async unschedule(count) {
        for (let i = 0; i < count; i++) await queue.removeJobScheduler(scheduleId(i))
      },
      async close() {
        await queue.close()
        connection.disconnect()
      },
    }
  },
  async work(target, onStart) {
    const connection = connect(target.redisUrl)
    const worker = new Worker(
      QUEUE,
      async (job) => {
        // A scheduler's job names its slot: opts.prevMillis (and its id, repeat:<id>:<slot>).
        onStart(dueOf(job.data) ?? job.opts.prevMillis, scheduleOf(job.data))
      },
      {
        connection,
        prefix: target.prefix,
        concurrency: CONCURRENCY,
        ...(target.fast ? { drainDelay: 0.5 } : {}),
      },
    )
    await worker.waitUntilReady()
    return async () => {
      await worker.close()
      connection.disconnect()
    }
  },
}
