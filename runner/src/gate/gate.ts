import type { Sql, TransactionSql } from "@helmr/migrations/db"
import type { RunRow } from "@helmr/migrations/rows"
import type { RunnerDeps } from "../run/deps.ts"
import { type GatedRun, gateOf } from "./gate-key.ts"
import { parkRun, unparkRuns, wakeParked } from "./parked.ts"

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
  const { claimed } = await claimManyThroughGate(deps, [run], gate, async (tx) => {
    const row = await claim(tx)
    return row ? [row] : []
  })
  return claimed[0] ?? null
}

/**
 * claimThroughGate for runs of one gate leased together: under the gate's lock its active runs
 * are counted once, and `claim` (one statement) takes at most the free slots, in one transaction
 * instead of one per run. When `claim` took every run the slots allowed, the rest are over the
 * limit and are parked together. When it took fewer, someone else moved some of these runs
 * meanwhile: nothing is parked, and the runs not taken are `unsettled`, for the caller to sort out
 * one by one. All of `runs` must be queued runs of `gate`.
 */
export async function claimManyThroughGate(
  deps: RunnerDeps,
  runs: readonly RunRow[],
  gate: { key: string; limit: number; queue: string },
  claim: (tx: TransactionSql, slots: number) => Promise<RunRow[]>,
): Promise<{ claimed: RunRow[]; unsettled: RunRow[] }> {
  const [first] = runs
  if (!first) return { claimed: [], unsettled: [] }
  const { claimed, slots } = await deps.sql.begin(async (tx) => {
    // The lock is taken in its own statement: the count's snapshot must be taken after it.
    await tx`select pg_advisory_xact_lock(hashtextextended(${gate.key}, 0))`
    const free = Math.max(0, gate.limit - (await countActive(tx, first, gate.queue)))
    const slots = Math.min(free, runs.length)
    return { slots, claimed: slots === 0 ? [] : await claim(tx, slots) }
  })
  const taken = new Set(claimed.map((r) => r.id))
  const left = runs.filter((r) => !taken.has(r.id))
  await unparkRuns(deps.valkey, deps.keys, gate.key, [...taken])
  if (claimed.length < slots) return { claimed, unsettled: left }
  if (left.length > 0) await park(deps, left, gate)
  return { claimed, unsettled: [] }
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

async function wake(deps: RunnerDeps, gate: string, count = 1): Promise<void> {
  try {
    const woken = await wakeParked(deps.valkey, deps.keys, gate, count)
    if (woken.length > 0) deps.pickup.nudge()
  } catch (error) {
    // The parked runs come back at their recheck time anyway.
    deps.logger.warn({ err: error, gate }, "waking a parked run failed")
  }
}

/** Parks runs of one gate that found it full. */
async function park(
  deps: RunnerDeps,
  runs: readonly RunRow[],
  gate: { key: string; limit: number; queue: string },
): Promise<void> {
  const [first] = runs
  if (!first) return
  const recheckAt = Date.now() + deps.gateRecheckMs
  await Promise.all(runs.map((run) => parkRun(deps.valkey, deps.keys, gate.key, run, recheckAt)))
  // Slots freed between our count and the park woke nobody (we were not parked yet); their
  // commits came before those wakes, so this second count sees them.
  const free = gate.limit - (await countActive(deps.sql, first, gate.queue))
  if (free > 0) await wake(deps, gate.key, Math.min(free, runs.length))
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
