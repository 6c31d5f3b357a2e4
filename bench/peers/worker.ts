/**
 * A peer's worker in a process of its own: `bun worker.ts` with PEER (bullmq | pg-boss |
 * graphile-worker), FAST (1 for the fast-poll variant), DATABASE_URL, REDIS_URL, PREFIX and, for
 * graphile-worker's crontab, CRON (how many every-minute items). Its handler is a no-op that
 * notes when it started each job; it prints `ready` once working and
 * `start <due|-> <epoch ms> <schedule|->` per job (see OnStart).
 */
import { bullmq } from "./bullmq.ts"
import { graphileWorker } from "./graphile-worker.ts"
import type { Peer, PeerId } from "./peer.ts"
import { pgBoss } from "./pg-boss.ts"

const peers: Record<PeerId, Peer> = {
  bullmq,
  "pg-boss": pgBoss,
  "graphile-worker": graphileWorker,
}
const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is required`)
  return value
}
const peer = peers[env("PEER") as PeerId]
if (!peer) throw new Error(`unknown PEER ${process.env.PEER}`)

const out: string[] = []
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.splice(0).join("\n")}\n`)
}
const stop = await peer.work(
  {
    databaseUrl: env("DATABASE_URL"),
    redisUrl: env("REDIS_URL"),
    prefix: env("PREFIX"),
    fast: process.env.FAST === "1",
  },
  (due, schedule) => {
    out.push(`start ${due ?? "-"} ${Date.now()} ${schedule ?? "-"}`)
  },
)
const timer = setInterval(flush, 100)
process.stdout.write("ready\n")
process.once("SIGTERM", async () => {
  await stop()
  clearInterval(timer)
  flush()
  process.exit(0)
})
