import { spawnLines } from "@helmr/bench-stats/lines"
import { TEST_VALKEY_URL } from "@helmr/migrations/testing"

/**
 * The bench's consumer process (consumer.ts) and the lease times it reports: one line
 * `lease <runId> <epoch ms>` per run it holds.
 */
export interface Consumer {
  /** Epoch ms at which the consumer held each run's lease, by run id. */
  leases: Map<string, number>
  /** After stop: CPU ms the consumer used, and its Postgres backends (null when unreadable). */
  cpu: { consumerMs: number; postgresMs: number | null } | null
  stop(): Promise<void>
}

/**
 * The consumer's environment for a bench: its database, key prefix and runner id (it must start
 * with h14); the pickup settings from the bench's own PICKUP, POLL_MS and BATCH (push, the
 * runner's 50 ms, the runner's CLAIM_BATCH).
 */
export function consumerEnv(
  databaseUrl: string,
  keyPrefix: string,
  runnerId: string,
): Record<string, string> {
  return {
    HELMR_DATABASE_URL: databaseUrl,
    HELMR_VALKEY_URL: TEST_VALKEY_URL,
    HELMR_KEY_PREFIX: keyPrefix,
    HELMR_RUNNER_ID: runnerId,
    CONCURRENCY: "100",
    POLL_MS: process.env.POLL_MS ?? "50",
    PICKUP: process.env.PICKUP ?? "push",
    ...(process.env.BATCH ? { BATCH: process.env.BATCH } : {}),
  }
}

export async function startConsumer(env: Record<string, string>): Promise<Consumer> {
  const leases = new Map<string, number>()
  const consumer: Consumer = { leases, cpu: null, stop: async () => {} }
  const proc = await spawnLines(
    "consumer",
    new URL("./consumer.ts", import.meta.url).pathname,
    env,
    (line) => {
      const [word, runId, at] = line.split(" ")
      if (word === "lease" && runId && at) leases.set(runId, Number(at))
      if (word === "cpu" && runId && at) {
        const postgresMs = Number(at)
        consumer.cpu = { consumerMs: Number(runId), postgresMs: postgresMs < 0 ? null : postgresMs }
      }
    },
  )
  consumer.stop = () => proc.stop()
  return consumer
}

/** Waits until `ids` all have a lease (or `timeoutMs` passed). */
export async function waitLeased(
  consumer: Consumer,
  ids: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && ids.some((id) => !consumer.leases.has(id))) await Bun.sleep(50)
}
