import type { Sql } from "@helmr/migrations/db"
import {
  type InsertedRun,
  insertRuns,
  type NewRun,
  type RunGuardRefusal,
} from "@helmr/migrations/queries/runs"
import { enqueueRuns, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"
import type { Logger } from "pino"
import { groupQueue } from "../http/group-queue.ts"

export interface RunBatcherDeps {
  sql: Sql
  valkey: Valkey
  keys: ValkeyKeys
  logger: Logger
}

/**
 * Group commit for triggers (see `groupQueue`): concurrent triggers share one `insertRuns`
 * statement and one commit, then one ZADD puts the new runs in the queue. A run is three rows
 * and a dozen index entries; one statement (and one Valkey write) per trigger is what capped the
 * API well below a bare insert's rate.
 */
export class RunBatcher {
  readonly #submit: (input: NewRun) => Promise<InsertedRun | RunGuardRefusal>

  constructor(deps: RunBatcherDeps, options: { maxBatch?: number; maxInFlight?: number } = {}) {
    this.#submit = groupQueue(async (inputs: NewRun[]) => {
      const results = await insertRuns(deps.sql, inputs)
      const created = results.flatMap((r) => ("run" in r && r.created ? [r.run] : []))
      try {
        await enqueueRuns(
          deps.valkey,
          deps.keys,
          created.map((run) => ({ runId: run.id, availableAt: run.availableAt })),
        )
      } catch (error) {
        // The runs are committed as queued; the dispatcher's repair re-enqueues queued runs
        // missing from Valkey, so the callers get their run ids rather than an error they would
        // retry.
        for (const run of created) {
          deps.logger.error({ err: error, runId: run.id }, "enqueue failed after commit")
        }
      }
      return results
    }, options)
  }

  /**
   * Creates the run (or finds the one holding its idempotency key), as `insertRun`, and puts a
   * new run in the queue at its `availableAt`; a guarded input may be refused instead.
   */
  insert(input: NewRun): Promise<InsertedRun | RunGuardRefusal> {
    return this.#submit(input)
  }
}
