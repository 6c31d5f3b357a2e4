import {
  type InsertedRun,
  insertRuns,
  type RunGuardRefusal,
  type RunInsertGuard,
} from "@helmr/migrations/queries/insert-runs"
import type { NewRun } from "@helmr/migrations/queries/runs"
import { enqueueRuns } from "@helmr/migrations/valkey"
import type { ApiDeps } from "../env.ts"
import { groupQueue } from "../http/group-queue.ts"

interface Item {
  input: NewRun
  guard?: RunInsertGuard
}

/**
 * Group commit for triggers (see `groupQueue`): concurrent triggers share one `insertRuns`
 * statement and one commit, then one ZADD puts the new runs in the queue. A run is three rows
 * and a dozen index entries; one statement (and one Valkey write) per trigger is what capped the
 * API well below a bare insert's rate.
 */
export class RunBatcher {
  readonly #submit: (item: Item) => Promise<InsertedRun | RunGuardRefusal>

  constructor(
    deps: Pick<ApiDeps, "sql" | "valkey" | "keys" | "logger">,
    options: { maxBatch?: number; maxInFlight?: number } = {},
  ) {
    this.#submit = groupQueue(async (items: Item[]) => {
      const results = await insertRuns(
        deps.sql,
        items.map((i) => i.input),
        items.map((i) => i.guard),
      )
      const created = results.flatMap((r, i) =>
        "id" in r && r.created
          ? [{ id: r.id, availableAt: items[i]?.input.availableAt ?? new Date() }]
          : [],
      )
      try {
        await enqueueRuns(deps.valkey, deps.keys, created)
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
   * Creates the run (or finds the one holding its idempotency key) and puts a new run in the
   * queue at its `availableAt`; with a guard it may be refused instead (`insertRuns`).
   */
  insert(input: NewRun, guard?: RunInsertGuard): Promise<InsertedRun | RunGuardRefusal> {
    return this.#submit(guard ? { input, guard } : { input })
  }
}
