import type { Sql } from "@helmr/migrations/db"
import { decodeCursor, encodeCursor } from "@helmr/migrations/queries/cursor"
import type { RunRow } from "@helmr/migrations/rows"
import type { ListRunsQuery } from "@helmr/sdk/contract"
import type { z } from "zod"

type Query = z.output<typeof ListRunsQuery>

/**
 * One page of the environment's runs, newest first, by keyset on (created_at, id) so concurrent
 * inserts never shift a page. Fetches one extra row to know whether another page follows.
 */
export async function listRuns(
  sql: Sql,
  environmentId: string,
  query: Query,
): Promise<{ rows: RunRow[]; nextCursor: string | null }> {
  const limit = query.limit ?? 20
  const conditions = [sql`environment_id = ${environmentId}`]
  if (query.status?.length) conditions.push(sql`status in ${sql(query.status)}`)
  if (query.task) conditions.push(sql`task_id = ${query.task}`)
  if (query.schedule) conditions.push(sql`schedule_id = ${query.schedule}`)
  // Implied by a non-empty tag filter; stated so the planner can use the index of tagged runs
  // (runs_tagged_idx, migrations/sql/0145_runs_tagged_index.sql).
  if (query.tag?.length)
    conditions.push(sql`tags @> ${query.tag}::text[] and cardinality(tags) > 0`)
  if (query.from) conditions.push(sql`created_at >= ${new Date(query.from)}`)
  if (query.to) conditions.push(sql`created_at < ${new Date(query.to)}`)
  if (query.cursor) {
    const after = decodeCursor(query.cursor)
    conditions.push(
      sql`(created_at, id) < (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id})`,
    )
  }
  const where = conditions.reduce((all, next) => sql`${all} and ${next}`)
  const rows = await sql<(RunRow & { createdMicros: string })[]>`
    select *, (extract(epoch from created_at) * 1000000)::bigint::text as created_micros
    from runs where ${where}
    order by created_at desc, id desc
    limit ${limit + 1}`
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ micros: last.createdMicros, id: last.id }) : null
  return { rows: page, nextCursor }
}
