import type { Sql, TransactionSql } from "@helmr/migrations/db"
import type { RunRow } from "@helmr/migrations/rows"
import type { RunnerDeps } from "../run/deps.ts"
import { type GatedRun, gateOf } from "./gate-key.ts"
import { parkRun, unparkRun, wakeParked } from "./parked.ts"

/**
 * The concurrency gate of a run's queue (and key), across every runner process. Postgres is the
 * count: under an advisory lock per gate, the gate's `starting`/`running` runs are counted and the
 * run is claimed in the same transaction, so two runners can never both take the last slot.
 * Waiting runs are not counted; a dead runner's runs stop counting when they are recovered after
 * their lease lapsed. A run over the limit stays `queued` and is parked in Valkey; whoever frees
 * a slot wakes the oldest parked run (`releaseGate`).
 */

type Claim = (tx: Sql | TransactionSql) => Promise<RunRow | null>

/**
 * Claims `run` with `claim` (its compare-and-set) if its gate has a free slot; an unlimited run
 * is claimed directly. Null: not claimed (over the limit, then parked; or someone else moved it).
 */
export async function claimThroughGate(
  deps: RunnerDeps,
  run: RunRow,
  claim: Claim,
): Promise<RunRow | null> {
  const gate = gateOf(run)
  if (!gate) return claim(deps.sql)
  const claimed = await deps.sql.begin(async (tx) => {
    // The lock is taken in its own statement: the count's snapshot must be taken after it.
    await tx`select pg_advisory_xact_lock(hashtextextended(${gate.key}, 0))`
    if ((await countActive(tx, run, gate.queue)) >= gate.limit) return "full" as const
    return claim(tx)
  })
  if (claimed === "full") {
    await park(deps, run, gate)
    return null
  }
  if (claimed) await unparkRun(deps.valkey, deps.keys, gate.key, run.id)
  return claimed
}

/**
 * A run of a limited queue left `starting`/`running` (finished, retried, recovered, waiting):
 * the oldest parked run of its gate goes to the front of the run queue. Call after the commit.
 */
export async function releaseGate(deps: RunnerDeps, run: GatedRun): Promise<void> {
  const gate = gateOf(run)
  if (!gate) return
  await wake(deps, gate.key)
}

async function wake(deps: RunnerDeps, gate: string): Promise<void> {
  try {
    const woken = await wakeParked(deps.valkey, deps.keys, gate)
    if (woken.length > 0) deps.pickup.nudge()
  } catch (error) {
    // The parked runs come back at their recheck time anyway.
    deps.logger.warn({ err: error, gate }, "waking a parked run failed")
  }
}

async function park(
  deps: RunnerDeps,
  run: RunRow,
  gate: { key: string; limit: number; queue: string },
): Promise<void> {
  await parkRun(deps.valkey, deps.keys, gate.key, run, Date.now() + deps.gateRecheckMs)
  // A slot freed between our count and the park woke nobody (we were not parked yet); its
  // commit came before that wake, so this second count sees it.
  if ((await countActive(deps.sql, run, gate.queue)) < gate.limit) await wake(deps, gate.key)
}

async function countActive(
  sql: Sql | TransactionSql,
  run: GatedRun,
  queue: string,
): Promise<number> {
  const [row] = await sql<{ active: number }[]>`
    select count(*)::int as active from runs
    where environment_id = ${run.environmentId} and queue = ${queue}
      and concurrency_key is not distinct from ${run.concurrencyKey}
      and status in ('starting', 'running')`
  return row?.active ?? 0
}
