import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import type { NewRun } from "./runs.ts"

type Tx = Sql | TransactionSql

export interface InsertedRun {
  id: string
  /** False when the idempotency key already had a run (then `id` is that run's). */
  created: boolean
}

/** Insert only while this API key is active and the run's deployment is still current. */
export interface RunInsertGuard {
  /** The API key the trigger came with (api_keys.id). */
  apiKeyId: string
}

/** A guarded input not inserted: its key is revoked, or its deployment is no longer current. */
export interface RunGuardRefusal {
  refused: "key" | "deployment"
}

/**
 * Creates many queued runs (sessions and first transition events with them) in one statement,
 * one round trip: a batch trigger. Like `insertRun`, the unique constraint on
 * `(environment_id, idempotency_key)` decides, item by item: an item whose key already has a run
 * (before the batch, or earlier in the same batch) gets that run's id. Results are in input
 * order. Enqueue the created runs once this has committed.
 *
 * Give `guards` (one per input, or undefined) to insert an input only if, at the insert, its API
 * key is not revoked and its deployment is still the environment's current one; otherwise its
 * result says which failed (`refused`), so a caller may resolve both from a cache and still
 * never act on stale ones (the API's trigger path does).
 */
export async function insertRuns(sql: Tx, inputs: readonly NewRun[]): Promise<InsertedRun[]>
export async function insertRuns(
  sql: Tx,
  inputs: readonly NewRun[],
  guards: readonly (RunInsertGuard | undefined)[],
): Promise<(InsertedRun | RunGuardRefusal)[]>
export async function insertRuns(
  sql: Tx,
  inputs: readonly NewRun[],
  guards: readonly (RunInsertGuard | undefined)[] = [],
): Promise<(InsertedRun | RunGuardRefusal)[]> {
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
    guard_key_id: guards[ord]?.apiKeyId ?? null,
  }))
  const found = rows.some((r) => r.idempotency_key !== null)
    ? await insertKeyed(sql, rows)
    : await insertUnkeyed(sql, rows)
  const results: (InsertedRun | RunGuardRefusal)[] = []
  for (const row of found) {
    const guard = guards[row.ord]
    results.push(
      row.guardOk || !guard
        ? { id: row.id ?? "", created: row.created }
        : { refused: await refusal(sql, guard) },
    )
  }
  // A key committed by a concurrent transaction after this statement's snapshot: look it up.
  const unresolved = results.flatMap((r, i) => ("id" in r && r.id === "" ? [i] : []))
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

type Row = Record<string, unknown> & { idempotency_key: string | null }
type Found = { ord: number; id: string | null; created: boolean; guardOk: boolean }

/**
 * The batch's rows (`input`, each with its guard) and their inserts: runs (`created`), their
 * sessions and first events. Without `onConflict` (no item has a key, and a null key never
 * conflicts) the runs are inserted without the speculative insertion `on conflict` costs.
 */
function insertCtes(sql: Tx, rows: Row[], onConflict: boolean) {
  return sql`
    input as (
      select t.*, t.guard_key_id is null or (
        exists (select 1 from api_keys k where k.id = t.guard_key_id and k.revoked_at is null)
        and exists (select 1 from environments e where e.id = t.environment_id
          and e.current_deployment_id = t.deployment_id)) as guard_ok
      from jsonb_to_recordset(${sql.json(rows as never)}) as t(ord int,
        id text, session_id text, environment_id text, deployment_id text, task_id text,
        payload jsonb, metadata jsonb, tags text[], idempotency_key text, max_attempts int,
        max_duration_seconds int, available_at timestamptz, expires_at timestamptz,
        replay_of text, queue text, concurrency_key text, concurrency_limit int, retry jsonb,
        guard_key_id text)
    ), created as (
      insert into runs (id, environment_id, deployment_id, task_id, session_id, payload, metadata,
        tags, idempotency_key, max_attempts, max_duration_seconds, available_at, expires_at,
        replay_of, queue, concurrency_key, concurrency_limit, retry)
      select id, environment_id, deployment_id, task_id, session_id, payload, metadata, tags,
        idempotency_key, max_attempts, max_duration_seconds, available_at, expires_at,
        replay_of, queue, concurrency_key, concurrency_limit, retry
      from input where guard_ok order by ord
      ${onConflict ? sql`on conflict (environment_id, idempotency_key) do nothing` : sql``}
      returning id, environment_id, task_id, session_id, idempotency_key
    ), sessions_made as (
      insert into sessions (id, environment_id, task_id)
      select session_id, environment_id, task_id from created
    ), events as (
      insert into run_events (run_id, type, data)
      select id, 'transition', '{"from": null, "to": "queued"}'::jsonb from created
    )`
}

/** A batch where some item has an idempotency key: each key decides, against runs and siblings. */
function insertKeyed(sql: Tx, rows: Row[]): Promise<Found[]> {
  // The outer query reads `runs` as it was before the statement: `prior` finds keys that had a
  // run already, `sibling` an item whose key an earlier item of this batch took.
  return sql<Found[]>`
    with ${insertCtes(sql, rows, true)}
    select i.ord, coalesce(c.id, prior.id, sibling.id) as id, c.id is not null as created,
      i.guard_ok
    from input i
    left join created c on c.id = i.id
    left join lateral (
      select r.id from runs r
      where c.id is null and i.idempotency_key is not null
        and r.environment_id = i.environment_id and r.idempotency_key = i.idempotency_key
      limit 1
    ) prior on true
    left join created sibling on c.id is null and prior.id is null
      and sibling.environment_id = i.environment_id and sibling.idempotency_key = i.idempotency_key
    order by i.ord`
}

/**
 * A batch where no item has an idempotency key (most triggers): nothing can conflict, so every
 * item whose guard holds was inserted; no lookup of prior runs, fewer plan nodes.
 */
function insertUnkeyed(sql: Tx, rows: Row[]): Promise<Found[]> {
  return sql<Found[]>`
    with ${insertCtes(sql, rows, false)}
    select ord, case when guard_ok then id end as id, guard_ok as created, guard_ok
    from input order by ord`
}

/** Which part of a failed guard fails (read again: the statement's own view is gone). */
async function refusal(sql: Tx, guard: RunInsertGuard): Promise<RunGuardRefusal["refused"]> {
  const [row] = await sql<{ keyOk: boolean }[]>`
    select exists (select 1 from api_keys where id = ${guard.apiKeyId} and revoked_at is null)
      as key_ok`
  // A key restored since counts as a stale deployment: the caller resolves afresh either way.
  return row?.keyOk === false ? "key" : "deployment"
}
