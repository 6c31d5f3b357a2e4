import type { Sql } from "@helmr/migrations/db"
import type { RunRow } from "@helmr/migrations/rows"
import { notFound } from "../errors.ts"

/** The environment's run, or a 404 (another environment's run is not found either). */
export async function findRun(sql: Sql, environmentId: string, runId: string): Promise<RunRow> {
  const [run] = await sql<RunRow[]>`
    select * from runs where id = ${runId} and environment_id = ${environmentId}`
  if (!run) throw notFound(`run ${runId}`)
  return run
}
