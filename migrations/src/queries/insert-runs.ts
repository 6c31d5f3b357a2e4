import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import type { NewRun } from "./runs.ts"

type Tx = Sql | TransactionSql

export interface InsertedRun {
  id: string
  /** False when the idempotency key already had a run (then `id` is that run's). */
  created: boolean
}

/**
 * Creates many queued runs (sessions and first transition events with them) in one statement,
 * one round trip: a batch trigger. Like `insertRun`, the unique constraint on
 * `(environment_id, idempotency_key)` decides, item by item: an item whose key already has a run
 * (before the batch, or earlier in the same batch) gets that run's id. Results are in input
 * order. Enqueue the created runs once this has committed.
 */
export async function insertRuns(sql: Tx, inputs: readonly NewRun[]): Promise<InsertedRun[]> {
  if (inputs.length === 0) return []
  // One JSON document, unpacked by jsonb_to_recordset: JSON.stringify is native and fast, and
  // the statement stays one parameter whatever the batch size.
  const rows = inputs.map((r, ord) => ({
    ord,
    id: newId("run"),
    session_id: r.sessionId ?? newId("sess"),
    environment_id: r.environmentId,
    deployment_id: r.deploymentId,
    task_id: r.taskId,
    payload: r.payload === undefined ? null : r.payload,
    metadata: r.metadata ?? {},
    tags: r.tags ?? [],
    idempotency_key: r.idempotencyKey ?? null,
    max_attempts: r.maxAttempts ?? 1,
    max_duration_seconds: r.maxDurationSeconds ?? null,
    available_at: r.availableAt ?? new Date(),
    expires_at: r.expiresAt ?? null,
    replay_of: r.replayOf ?? null,
    queue: r.queue ?? `task:${r.taskId}`,
    concurrency_key: r.concurrencyKey ?? null,
    concurrency_limit: r.concurrencyLimit ?? null,
    retry: r.retry ?? null,
  }))
  // The outer query reads `runs` as it was before the statement: `prior` finds keys that had a
  // run already, `sibling` an item whose key an earlier item of this batch took.
  const found = await sql<{ ord: number; id: string | null; created: boolean }[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(rows as never)}) as t(ord int,
        id text, session_id text, environment_id text, deployment_id text, task_id text,
        payload jsonb, metadata jsonb, tags text[], idempotency_key text, max_attempts int,
        max_duration_seconds int, available_at timestamptz, expires_at timestamptz,
        replay_of text, queue text, concurrency_key text, concurrency_limit int, retry jsonb)
    ), created as (
      insert into runs (id, environment_id, deployment_id, task_id, session_id, payload, metadata,
        tags, idempotency_key, max_attempts, max_duration_seconds, available_at, expires_at,
        replay_of, queue, concurrency_key, concurrency_limit, retry)
      select id, environment_id, deployment_id, task_id, session_id, payload, metadata, tags,
        idempotency_key, max_attempts, max_duration_seconds, available_at, expires_at,
        replay_of, queue, concurrency_key, concurrency_limit, retry
      from input order by ord
      on conflict (environment_id, idempotency_key) do nothing
      returning id, environment_id, task_id, session_id, idempotency_key
    ), sessions_made as (
      insert into sessions (id, environment_id, task_id)
      select session_id, environment_id, task_id from created
    ), events as (
      insert into run_events (run_id, type, data)
      select id, 'transition', '{"from": null, "to": "queued"}'::jsonb from created
    )
    select i.ord, coalesce(c.id, prior.id, sibling.id) as id, c.id is not null as created
    from input i
    left join created c on c.id = i.id
    left join runs prior on c.id is null and prior.environment_id = i.environment_id
      and prior.idempotency_key = i.idempotency_key
    left join created sibling on c.id is null and prior.id is null
      and sibling.environment_id = i.environment_id and sibling.idempotency_key = i.idempotency_key
    order by i.ord`
  const results: InsertedRun[] = found.map((row) => ({ id: row.id ?? "", created: row.created }))
  // A key committed by a concurrent transaction after this statement's snapshot: look it up.
  const unresolved = results.flatMap((r, i) => (r.id === "" ? [i] : []))
  if (unresolved.length > 0) {
    const keyOf = (i: number) => `${inputs[i]?.environmentId}\n${inputs[i]?.idempotencyKey}`
    const keys = unresolved.map((i) => inputs[i]?.idempotencyKey ?? "")
    const envs = unresolved.map((i) => inputs[i]?.environmentId ?? "")
    const late = await sql<{ id: string; environmentId: string; idempotencyKey: string }[]>`
      select r.id, r.environment_id, r.idempotency_key from runs r
      join unnest(${envs}::text[], ${keys}::text[]) as k(environment_id, idempotency_key)
        on r.environment_id = k.environment_id and r.idempotency_key = k.idempotency_key`
    const byKey = new Map(late.map((r) => [`${r.environmentId}\n${r.idempotencyKey}`, r.id]))
    for (const i of unresolved) {
      const id = byKey.get(keyOf(i))
      if (!id) throw new Error("batch insert left an item without a run")
      results[i] = { id, created: false }
    }
  }
  return results
}
