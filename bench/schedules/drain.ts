/**
 * bench/schedules/drain.ts — the consumer alone, without dispatchers:
 *
 *   bun bench/schedules/drain.ts
 *
 * DRAIN runs (default 10,000; CI: 200) are queued, each in Valkey with its due time, to come due
 * at one instant; the bench consumer (consumer.ts: the runner's own queue and claim code, 100
 * runs at once, no-op runs) takes them. Prints due → lease lateness and the CPU each run cost the
 * consumer and its Postgres backends: on a shared machine the wall-clock figures move with other
 * load, the CPU per run much less. Then the same again with every run in one queue of limited
 * concurrency (GATE_LIMIT, default 100: the consumer's slots, so the gate holds no run back and
 * what differs from the first part is the cost of claiming through the gate). Env: DRAIN, BATCH
 * and PICKUP as in main.ts, GATE_LIMIT.
 */
import { loadLine, ms, summarize } from "@helmr/bench-stats"
import { seedEnvironment } from "@helmr/dispatcher/testing/seed"
import { insertRuns } from "@helmr/migrations/queries/insert-runs"
import { createTestDatabase, createTestValkey } from "@helmr/migrations/testing"
import { enqueueRuns } from "@helmr/migrations/valkey"
import { CLAIM_BATCH } from "@helmr/runner/run/claim"
import { consumerEnv, startConsumer, waitLeased } from "./leases.ts"

const DRAIN = Number(process.env.DRAIN ?? (process.env.CI === "true" ? 200 : 10_000))
/** The limited queue's concurrency limit; 100, the consumer's slots, holds no run back. */
const GATE_LIMIT = Number(process.env.GATE_LIMIT ?? 100)
const CHUNK = 1_000

const db = await createTestDatabase("i14drain")
const t = createTestValkey("i14drain")
try {
  console.log(`bench/schedules/drain — ${loadLine()}`)
  const env = await seedEnvironment(db.sql, { slug: "i14-drain" })
  const parts = [
    { label: "", flow: {} },
    {
      label: ` in one limited queue (concurrencyLimit ${GATE_LIMIT})`,
      flow: { queue: "limited", concurrencyLimit: GATE_LIMIT },
    },
  ]
  for (const [index, part] of parts.entries()) {
    const due = new Date(Date.now() + 3_000 + DRAIN / 2)
    const ids: string[] = []
    for (let start = 0; start < DRAIN; start += CHUNK) {
      const inserted = await insertRuns(
        db.sql,
        Array.from({ length: Math.min(CHUNK, DRAIN - start) }, (_, i) => ({
          environmentId: env.environmentId,
          deploymentId: env.deploymentId,
          taskId: "nightly",
          payload: { i: start + i },
          availableAt: due,
          ...part.flow,
        })),
      )
      ids.push(...inserted.map((r) => r.id))
    }
    const consumer = await startConsumer(
      consumerEnv(db.url, t.prefix, `h14-drain-${process.pid}-${index}`),
    )
    for (let start = 0; start < ids.length; start += CHUNK) {
      await enqueueRuns(
        t.valkey,
        t.keys,
        ids.slice(start, start + CHUNK).map((id) => ({ id, availableAt: due })),
      )
    }
    if (Date.now() > due.getTime()) throw new Error("setup ran past the due instant: lower DRAIN")
    await Bun.sleep(due.getTime() - Date.now())
    await waitLeased(consumer, ids)
    await consumer.stop()
    const late = summarize(
      ids.flatMap((id) => {
        const at = consumer.leases.get(id)
        return at === undefined ? [] : [at - due.getTime()]
      }),
    )
    const cpu = consumer.cpu
    const perRun = (total: number | null | undefined) =>
      total === null || total === undefined ? "n/a" : `${((total * 1000) / DRAIN).toFixed(0)} µs`
    console.log(
      `\n# ${DRAIN} queued runs due at one instant${part.label}, the consumer alone (BATCH ${process.env.BATCH ?? CLAIM_BATCH})`,
    )
    console.log(
      `  to the runner lease: ${late.count}/${DRAIN} leased; p50 ${ms(late.p50)}  p99 ${ms(late.p99)}  last ${ms(late.max)} — ${loadLine()}`,
    )
    console.log(
      `  CPU per run: consumer ${perRun(cpu?.consumerMs)}, its Postgres backends ${perRun(cpu?.postgresMs)}`,
    )
  }
} finally {
  await t.cleanup()
  await db.drop()
}
