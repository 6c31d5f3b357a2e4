import { spawnLines } from "@helmr/bench-stats/lines"
import type { Start } from "./results.ts"

/** The starts a peer's worker process (worker.ts) reported, as its lines come in. */
export interface WorkerProcess {
  /** Every job start (see OnStart), `at` in epoch ms. */
  starts: Start[]
  stop(): Promise<void>
}

export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const starts: WorkerProcess["starts"] = []
  const proc = await spawnLines(
    `${env.PEER} worker`,
    new URL("./worker.ts", import.meta.url).pathname,
    env,
    (line) => {
      const [word, due, at, schedule] = line.split(" ")
      if (word === "start" && due && at && schedule) {
        starts.push({
          due: due === "-" ? undefined : Number(due),
          at: Number(at),
          schedule: schedule === "-" ? undefined : Number(schedule),
        })
      }
    },
  )
  return { starts, stop: () => proc.stop() }
}
