import type { Sql } from "@helmr/migrations/db"
import { insertRuns, type NewRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"

interface Pending {
  input: NewRun
  resolve(result: InsertedRun): void
  reject(error: unknown): void
}

export interface InsertedRun {
  run: RunRow
  created: boolean
}

/**
 * Group commit for triggers: inserts runs the moment they arrive while fewer than `maxInFlight`
 * statements are running, and otherwise gathers the triggers that arrive meanwhile into the next
 * statement (`insertRuns`, one commit for all). A lone trigger waits for nothing; under load,
 * one statement carries many runs, which is what lets the database keep up (a run is three rows
 * and a dozen index entries). A batch that fails is retried run by run, so one bad trigger fails
 * alone and every caller sees its own error.
 */
export class RunBatcher {
  readonly #pending: Pending[] = []
  #inFlight = 0

  constructor(
    private readonly sql: Sql,
    private readonly options: { maxBatch?: number; maxInFlight?: number } = {},
  ) {}

  /** Creates the run (or finds the one holding its idempotency key), as `insertRun`. */
  insert(input: NewRun): Promise<InsertedRun> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ input, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    const maxInFlight = this.options.maxInFlight ?? 2
    const maxBatch = this.options.maxBatch ?? 64
    while (this.#inFlight < maxInFlight && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, maxBatch)
      this.#inFlight++
      void this.#flush(batch).finally(() => {
        this.#inFlight--
        this.#pump()
      })
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
    try {
      const results = await insertRuns(
        this.sql,
        batch.map((p) => p.input),
      )
      for (const [i, p] of batch.entries()) p.resolve(results[i] as InsertedRun)
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error)
        return
      }
      await Promise.all(
        batch.map((p) =>
          insertRuns(this.sql, [p.input]).then(
            ([result]) => p.resolve(result as InsertedRun),
            (e: unknown) => p.reject(e),
          ),
        ),
      )
    }
  }
}
