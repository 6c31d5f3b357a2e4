import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import type { RunRow } from "../rows.ts"

type Tx = Sql | TransactionSql

export interface NewRun {
  environmentId: string
  deploymentId: string
  taskId: string
  payload: unknown
  idempotencyKey?: string | null
  tags?: string[]
  maxAttempts?: number
  maxDurationSeconds?: number | null
  availableAt?: Date
  expiresAt?: Date | null
  metadata?: Record<string, unknown>
  scheduleId?: string | null
  scheduleInstanceId?: string | null
  slotAt?: Date | null
  replayOf?: string | null
  /** An existing session to run in; a new one is created when omitted. */
  sessionId?: string
  /** Insert only while this key is active and `deploymentId` is the environment's current one. */
  guard?: RunInsertGuard
}

export interface RunInsertGuard {
  /** The API key the trigger came with (api_keys.id). */
  apiKeyId: string
}

export interface InsertedRun {
  run: RunRow
  created: boolean
}

/** A guarded input not inserted: its key is revoked, or its deployment is no longer current. */
export interface RunGuardRefusal {
  refused: "key" | "deployment"
}

/**
 * `insertRun` for many runs in one statement and one commit (the API batches concurrent
 * triggers this way): results in the order of `inputs`. The session and the event are inserted
 * from the runs' own RETURNING, so a run that already existed leaves nothing behind, and foreign
 * keys are checked at the end of the statement. Two inputs with one idempotency key in one batch
 * get one run, as two concurrent calls would. One bad input fails the whole statement.
 *
 * An input with a `guard` is inserted only if, at the insert, its API key is not revoked and its
 * deployment is still the environment's current one; otherwise its result says which failed
 * (`refused`), so a caller may resolve both from a cache and still never act on stale ones.
 */
export async function insertRuns(
  sql: Tx,
  inputs: readonly NewRun[],
): Promise<(InsertedRun | RunGuardRefusal)[]> {
  if (inputs.length === 0) return []
  const rows = inputs.map((input) => ({ id: newId("run"), input }))
  const col = <T>(pick: (input: NewRun) => T) => rows.map((r) => pick(r.input))
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
  const time = (value: Date | null | undefined) => (value ? value.toISOString() : null)
  const int = (value: number | null | undefined) => (value == null ? null : String(value))
  // unnest of one text[] per column, cast in the select: one statement text whatever the batch
  // size, so postgres.js prepares it once (it types the elements of other arrays unreliably, and
  // would encode a jsonb[] element again). Tags travel as JSON: unnest would flatten a text[][].
  const inserted = await sql<RunRow[]>`
    with input as (
      select * from unnest(
        ${rows.map((r) => r.id)}::text[], ${col((i) => i.environmentId)}::text[],
        ${col((i) => i.deploymentId)}::text[], ${col((i) => i.taskId)}::text[],
        ${col((i) => i.sessionId ?? newId("sess"))}::text[],
        ${col((i) => (i.sessionId === undefined ? "t" : "f"))}::text[],
        ${col((i) => i.scheduleId ?? null)}::text[], ${col((i) => i.scheduleInstanceId ?? null)}::text[],
        ${col((i) => time(i.slotAt))}::text[], ${col((i) => json(i.payload))}::text[],
        ${col((i) => json(i.metadata ?? {}))}::text[], ${col((i) => json(i.tags ?? []))}::text[],
        ${col((i) => i.idempotencyKey ?? null)}::text[], ${col((i) => int(i.maxAttempts ?? 1))}::text[],
        ${col((i) => int(i.maxDurationSeconds))}::text[], ${col((i) => time(i.availableAt))}::text[],
        ${col((i) => time(i.expiresAt))}::text[], ${col((i) => i.replayOf ?? null)}::text[],
        ${col((i) => i.guard?.apiKeyId ?? null)}::text[]
      ) with ordinality as t(id, environment_id, deployment_id, task_id, session_id, new_session,
        schedule_id, schedule_instance_id, slot_at, payload, metadata, tags, idempotency_key,
        max_attempts, max_duration_seconds, available_at, expires_at, replay_of, guard_key_id, ord)
    ), run as (
      insert into runs (
        id, environment_id, deployment_id, task_id, session_id, schedule_id, schedule_instance_id,
        slot_at, payload, metadata, tags, idempotency_key, max_attempts, max_duration_seconds,
        available_at, expires_at, replay_of
      )
      select id, environment_id, deployment_id, task_id, session_id, schedule_id,
        schedule_instance_id, slot_at::timestamptz, payload::jsonb, metadata::jsonb,
        array(select jsonb_array_elements_text(tags::jsonb)), idempotency_key, max_attempts::int,
        max_duration_seconds::int, coalesce(available_at::timestamptz, now()),
        expires_at::timestamptz, replay_of
      from input
      where guard_key_id is null or (
        exists (select 1 from api_keys k where k.id = guard_key_id and k.revoked_at is null)
        and exists (select 1 from environments e
          where e.id = input.environment_id and e.current_deployment_id = input.deployment_id))
      order by ord
      on conflict (environment_id, idempotency_key) do nothing
      returning *
    ), session as (
      insert into sessions (id, environment_id, task_id)
      select run.session_id, run.environment_id, run.task_id from run
      join input on input.id = run.id where input.new_session = 't'
    ), event as (
      insert into run_events (run_id, type, data)
      select id, 'transition', ${sql.json({ from: null, to: "queued" })} from run
    )
    select * from run`
  const byId = new Map(inserted.map((run) => [run.id, run]))
  return Promise.all(
    rows.map(async ({ id, input }) => {
      const run = byId.get(id)
      if (run) return { run, created: true }
      if (input.guard) {
        const refused = await checkGuard(sql, input, input.guard)
        if (refused) return { refused }
      }
      const [existing] = await sql<RunRow[]>`
        select * from runs
        where environment_id = ${input.environmentId} and idempotency_key = ${input.idempotencyKey ?? null}`
      // A guard that failed at the insert and holds again now (a key revoked and restored, a
      // promotion undone) leaves no row: the caller resolves afresh, as for a stale deployment.
      if (!existing && input.guard) return { refused: "deployment" as const }
      // No key and no row would mean the insert failed without an error: impossible, but say so.
      if (!existing) {
        throw new Error("run insert returned nothing and no run holds its idempotency key")
      }
      return { run: existing, created: false }
    }),
  )
}

/** Which part of a guard fails now, if any. */
async function checkGuard(
  sql: Tx,
  input: NewRun,
  guard: RunInsertGuard,
): Promise<RunGuardRefusal["refused"] | null> {
  const [row] = await sql<{ keyOk: boolean; deploymentOk: boolean }[]>`
    select
      exists (select 1 from api_keys where id = ${guard.apiKeyId} and revoked_at is null) as key_ok,
      exists (select 1 from environments where id = ${input.environmentId}
        and current_deployment_id = ${input.deploymentId}) as deployment_ok`
  if (!row?.keyOk) return "key"
  if (!row.deploymentOk) return "deployment"
  return null
}
