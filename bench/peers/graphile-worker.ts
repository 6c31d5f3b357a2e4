import { makeWorkerUtils, parseCronItems, run, runMigrations } from "graphile-worker"
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
 * graphile-worker: delayed jobs (`runAt`) and its crontab (one item per schedule, given to the
 * runner as parsed cron items, so the worker's process fires them). Recommended: the defaults
 * (`pollInterval` 2 s; jobs due now are announced by LISTEN/NOTIFY). Fast: `pollInterval` 0.5 s.
 */
export const graphileWorker: Peer = {
  id: "graphile-worker",
  settings: (fast) =>
    fast
      ? `concurrency ${CONCURRENCY}, pollInterval 0.5 s`
      : `concurrency ${CONCURRENCY}, defaults (pollInterval 2 s)`,
  async producer(target) {
    await runMigrations({ connectionString: target.databaseUrl })
    const utils = await makeWorkerUtils({ connectionString: target.databaseUrl })
    return {
      async addDelayed(count, due) {
        const runAt = new Date(due)
        for (let i = 0; i < count; i += 1_000) {
          const jobs = Array.from({ length: Math.min(1_000, count - i) }, () => ({
            identifier: QUEUE,
            payload: { due },
            runAt,
          }))
          await utils.addJobs(jobs)
        }
      },
      // The crontab lives in the worker's process (CRON env, read by work()); nothing to store.
      async schedule() {},
      async unschedule() {},
      async close() {
        await utils.release()
      },
    }
  },
  async work(target, onStart) {
    const items = Array.from({ length: Number(process.env.CRON ?? 0) }, (_, i) => ({
      task: QUEUE,
      match: "* * * * *",
      identifier: scheduleId(i),
      payload: scheduleData(i),
    }))
    const runner = await run({
      connectionString: target.databaseUrl,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      ...(target.fast ? { pollInterval: 500 } : {}),
      taskList: {
        [QUEUE]: async (payload) => {
          // A crontab job's payload carries its slot: `_cron: { ts }`.
          const cron = (payload as { _cron?: { ts?: string } })._cron
          onStart(
            dueOf(payload) ?? (cron?.ts ? Date.parse(cron.ts) : undefined),
            scheduleOf(payload),
          )
        },
      },
      parsedCronItems: parseCronItems(items),
    })
    return () => runner.stop()
  },
}
