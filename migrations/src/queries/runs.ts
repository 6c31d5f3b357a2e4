import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import { FINAL_RUN_STATUSES, type RunRow, type RunStatus } from "../rows.ts"
import { assertRunTransitions } from "./run-transitions.ts"

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
}

/**
 * Creates a queued run (with its session and its first transition event) unless one exists for
 * the idempotency key: the unique constraint decides, never a prior read, so concurrent callers
 * and retries get one run. One statement, one round trip (see `insertRuns`). Enqueue the run in
 * Valkey once this has committed.
 */
export async function insertRun(
  sql: Tx,
  input: NewRun,
): Promise<{ run: RunRow; created: boolean }> {
  const [result] = await insertRuns(sql, [input])
  if (!result) throw new Error("run insert returned no result")
  return result
}

/**
 * `insertRun` for many runs in one statement and one commit (the API batches concurrent
 * triggers this way): results in the order of `inputs`. The session and the event are inserted
 * from the runs' own RETURNING, so a run that already existed leaves nothing behind, and foreign
 * keys are checked at the end of the statement. Two inputs with one idempotency key in one batch
 * get one run, as two concurrent calls would. One bad input fails the whole statement.
 */
export async function insertRuns(
  sql: Tx,
  inputs: readonly NewRun[],
): Promise<{ run: RunRow; created: boolean }[]> {
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
        ${col((i) => time(i.expiresAt))}::text[], ${col((i) => i.replayOf ?? null)}::text[]
      ) with ordinality as t(id, environment_id, deployment_id, task_id, session_id, new_session,
        schedule_id, schedule_instance_id, slot_at, payload, metadata, tags, idempotency_key,
        max_attempts, max_duration_seconds, available_at, expires_at, replay_of, ord)
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
      from input order by ord
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
      const [existing] = await sql<RunRow[]>`
        select * from runs
        where environment_id = ${input.environmentId} and idempotency_key = ${input.idempotencyKey ?? null}`
      // No key and no row would mean the insert failed without an error: impossible, but say so.
      if (!existing) {
        throw new Error("run insert returned nothing and no run holds its idempotency key")
      }
      return { run: existing, created: false }
    }),
  )
}

export interface TransitionPatch {
  output?: unknown
  error?: unknown
  runnerId?: string | null
  leaseExpiresAt?: Date | null
  attempt?: number
  availableAt?: Date
}

/**
 * Extra conditions of a compare-and-set, so a runner that lost its lease (a slow heartbeat, a
 * network split) can never overwrite what the run's new owner did.
 */
export interface RunGuard {
  /** Only while this runner holds the run (null: no runner). */
  runnerId?: string | null
  /** Only while the run is at this attempt. */
  attempt?: number
  /** Only when the runner lease expired before this time (or there is none). */
  leaseExpiredBefore?: Date
}

/**
 * Compare-and-set of a run's status: moves the run to `to` only if its status is one of `from`
 * (and the guard holds), and records a transition event, in one statement. Returns the updated
 * run, or null when the run was not in an expected state (someone else moved it first). The only
 * writer of `runs.status` after insert: a move the state machine (run-transitions.ts) does not
 * allow throws RunTransitionError before touching the database.
 */
export async function transitionRun(
  sql: Tx,
  runId: string,
  from: readonly RunStatus[],
  to: RunStatus,
  patch: TransitionPatch = {},
  eventData: Record<string, unknown> = {},
  guard: RunGuard = {},
): Promise<RunRow | null> {
  assertRunTransitions(from, to)
  const finished = FINAL_RUN_STATUSES.includes(to)
  const json = (value: unknown) => (value === undefined ? null : sql.json(value as never))
  // FOR UPDATE re-checks the conditions on the newest row version after waiting for a concurrent
  // writer, so of racing transitions exactly one finds the row.
  const [row] = await sql<(RunRow & { previousStatus: RunStatus })[]>`
    with before as (
      select id, status from runs
      where id = ${runId} and status in ${sql(from as RunStatus[])}
        and (${guard.runnerId === undefined} or runner_id is not distinct from ${guard.runnerId ?? null})
        and (${guard.attempt === undefined} or attempt = ${guard.attempt ?? 0})
        and (${guard.leaseExpiredBefore === undefined}
          or lease_expires_at is null
          or lease_expires_at < ${guard.leaseExpiredBefore ?? new Date(0)}::timestamptz)
      for update
    ), updated as (
      update runs r set
        status = ${to},
        output = case when ${"output" in patch} then ${json(patch.output)}::jsonb else r.output end,
        error = case when ${"error" in patch} then ${json(patch.error)}::jsonb else r.error end,
        runner_id = case when ${"runnerId" in patch} then ${patch.runnerId ?? null} else r.runner_id end,
        lease_expires_at = case when ${"leaseExpiresAt" in patch}
          then ${patch.leaseExpiresAt ?? null}::timestamptz else r.lease_expires_at end,
        attempt = coalesce(${patch.attempt ?? null}, r.attempt),
        available_at = coalesce(${patch.availableAt ?? null}::timestamptz, r.available_at),
        started_at = case when ${to === "running"} and r.started_at is null then now() else r.started_at end,
        finished_at = case when ${finished} then now() else r.finished_at end,
        updated_at = now()
      from before
      where r.id = before.id
      returning r.*, before.status as previous_status
    ), event as (
      insert into run_events (run_id, type, data)
      select id, 'transition',
        jsonb_build_object('from', previous_status, 'to', ${to}::text) || ${sql.json(eventData as never)}::jsonb
      from updated
    )
    select * from updated`
  if (!row) return null
  const { previousStatus: _, ...run } = row
  return run
}
