import { createEmptyDatabase, createTestValkey, TEST_VALKEY_URL } from "@helmr/migrations/testing"
import type { Peer, PeerTarget } from "./peer.ts"
import {
  burstFigures,
  cronFigures,
  cronLatenesses,
  MINUTE,
  nextMinute,
  type Row,
  waitUntil,
} from "./results.ts"
import { startWorker } from "./worker-process.ts"

export interface Sizes {
  /** Jobs due at one instant (scenario 1). */
  jobs: number
  /** Every-minute schedules (scenario 2) and for how many minutes. */
  schedules: number
  minutes: number
  /** How far ahead of enqueueing the burst's due instant lies. */
  leadMs: number
}

const versions = (await Bun.file(new URL("./package.json", import.meta.url)).json()) as {
  devDependencies: Record<string, string>
}
export const peerVersion = (id: string) => versions.devDependencies[id] ?? "?"

/**
 * One peer under one setting: a fresh database and key prefix of its own, the burst then the
 * every-minute schedules, each with a fresh worker process. Drops both afterwards.
 */
export async function runPeer(peer: Peer, fast: boolean, sizes: Sizes): Promise<Row> {
  const db = await createEmptyDatabase(`peers${peer.id}`)
  const redis = createTestValkey(`peers-${peer.id}`)
  const target: PeerTarget = {
    databaseUrl: db.url,
    redisUrl: TEST_VALKEY_URL,
    prefix: redis.prefix,
    fast,
  }
  const workerEnv = {
    PEER: peer.id,
    FAST: fast ? "1" : "0",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_VALKEY_URL,
    PREFIX: redis.prefix,
  }
  const row: Row = {
    system: fast ? `${peer.id}, fast poll` : peer.id,
    version: peerVersion(peer.id),
    settings: peer.settings(fast),
  }
  const producer = await peer.producer(target)
  try {
    row.burst = await burst(producer, workerEnv, sizes)
    if (sizes.minutes > 0) row.cron = await everyMinute(producer, workerEnv, sizes)
  } finally {
    await producer.close()
    await redis.cleanup()
    await db.drop()
  }
  return row
}

type PeerProducer = Awaited<ReturnType<Peer["producer"]>>

async function burst(producer: PeerProducer, env: Record<string, string>, sizes: Sizes) {
  const worker = await startWorker(env)
  try {
    const due = Date.now() + sizes.leadMs
    await producer.addDelayed(sizes.jobs, due)
    if (Date.now() >= due) throw new Error(`enqueueing took past the due instant: raise the lead`)
    const started = () => worker.starts.filter((s) => s.due === due)
    await waitUntil(() => started().length >= sizes.jobs, due + 180_000)
    return burstFigures(
      started().map((s) => s.at - due),
      sizes.jobs,
    )
  } finally {
    await worker.stop()
  }
}

async function everyMinute(producer: PeerProducer, env: Record<string, string>, sizes: Sizes) {
  // Set the schedules up well inside one minute, so none is half set up at a measured slot.
  const boundary = nextMinute(Date.now(), 0)
  if (boundary - Date.now() < 25_000) await Bun.sleep(boundary - Date.now() + 100)
  const worker = await startWorker({ ...env, CRON: String(sizes.schedules) })
  try {
    await producer.schedule(sizes.schedules)
    const first = nextMinute(Date.now(), 2_000)
    const last = first + (sizes.minutes - 1) * MINUTE
    const expected = sizes.schedules * sizes.minutes
    const measured = () => cronLatenesses(worker.starts, first, last)
    await Bun.sleep(Math.max(0, last - Date.now()))
    // Unscheduled before the slot after `last`; a late system then gets another minute.
    await waitUntil(() => measured().length >= expected, last + MINUTE - 5_000)
    await producer.unschedule(sizes.schedules)
    await waitUntil(() => measured().length >= expected, last + 2 * MINUTE)
    return cronFigures(measured(), expected)
  } finally {
    await worker.stop()
  }
}
