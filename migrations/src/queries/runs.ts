import { FAILURE_STATUSES } from "@helmr/sdk/contract"
import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import { FINAL_RUN_STATUSES, type RunRow, type RunStatus } from "../rows.ts"
import { completeChildWaits } from "./child-waits.ts"
import { assertRunTransitions } from "./run-transitions.ts"
import { countScheduleOutcome } from "./schedule-failures.ts"

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
  /** Flow control (run-flow.ts); absent: the task's own unlimited queue. */
  queue?: string | null
  concurrencyKey?: string | null
  concurrencyLimit?: number | null
  retry?: RunRow["retry"]
  /** An existing session to run in; a new one is created when omitted. */
  sessionId?: string
}

/**
 * Creates a queued run (with its session and its first transition event) unless one exists for
 * the idempotency key: the unique constraint decides, never a prior read, so concurrent callers
 * and retries get one run. One statement, one round trip: the session and the event are inserted
 * from the run's own RETURNING, so a run that already existed leaves nothing behind, and foreign
 * keys are checked at the end of the statement. Enqueue the run in Valkey once this has committed.
 */
export async function insertRun(
  sql: Tx,
  input: NewRun,
): Promise<{ run: RunRow; created: boolean }> {
  const sessionId = input.sessionId ?? newId("sess")
  const [inserted] = await sql<RunRow[]>`
    with run as (
      insert into runs (
        id, environment_id, deployment_id, task_id, session_id, schedule_id, schedule_instance_id,
        slot_at, payload, metadata, tags, idempotency_key, max_attempts, max_duration_seconds,
        available_at, expires_at, replay_of, queue, concurrency_key, concurrency_limit, retry
      ) values (
        ${newId("run")}, ${input.environmentId}, ${input.deploymentId}, ${input.taskId}, ${sessionId},
        ${input.scheduleId ?? null}, ${input.scheduleInstanceId ?? null}, ${input.slotAt ?? null},
        ${input.payload === undefined ? null : sql.json(input.payload as never)},
        ${sql.json((input.metadata ?? {}) as never)}, ${input.tags ?? []},
        ${input.idempotencyKey ?? null}, ${input.maxAttempts ?? 1}, ${input.maxDurationSeconds ?? null},
        ${input.availableAt ?? sql`now()`}, ${input.expiresAt ?? null}, ${input.replayOf ?? null},
        ${input.queue ?? `task:${input.taskId}`}, ${input.concurrencyKey ?? null},
        ${input.concurrencyLimit ?? null}, ${input.retry ? sql.json(input.retry as never) : null}
      )
      on conflict (environment_id, idempotency_key) do nothing
      returning *
    ), session as (
      insert into sessions (id, environment_id, task_id)
      select session_id, environment_id, task_id from run where ${input.sessionId === undefined}
    ), event as (
      insert into run_events (run_id, type, data)
      select id, 'transition', ${sql.json({ from: null, to: "queued" })} from run
    )
    select * from run`
  if (inserted) return { run: inserted, created: true }
  const [existing] = await sql<RunRow[]>`
    select * from runs
    where environment_id = ${input.environmentId} and idempotency_key = ${input.idempotencyKey ?? null}`
  // No key and no row would mean the insert failed without an error: impossible, but say so.
  if (!existing) throw new Error("run insert returned nothing and no run holds its idempotency key")
  return { run: existing, created: false }
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
 * The SET columns every move to `to` writes, for transitionRun and transitionRuns alike (the
 * updated row is `r`): the status, its timestamps, and the patch's owner, lease and due time.
 */
function movedColumns(
  sql: Tx,
  to: RunStatus,
  patch: Pick<TransitionPatch, "runnerId" | "leaseExpiresAt" | "availableAt">,
) {
  const finished = FINAL_RUN_STATUSES.includes(to)
  return sql`status = ${to},
    runner_id = case when ${"runnerId" in patch} then ${patch.runnerId ?? null} else r.runner_id end,
    lease_expires_at = case when ${"leaseExpiresAt" in patch}
      then ${patch.leaseExpiresAt ?? null}::timestamptz else r.lease_expires_at end,
    available_at = coalesce(${patch.availableAt ?? null}::timestamptz, r.available_at),
    started_at = case when ${to === "running"} and r.started_at is null then now() else r.started_at end,
    finished_at = case when ${finished} then now() else r.finished_at end,
    updated_at = now()`
}

/**
 * Compare-and-set of a run's status: moves the run to `to` only if its status is one of `from`
 * (and the guard holds), and records a transition event, in one statement. Returns the updated
 * run, or null when the run was not in an expected state (someone else moved it first). A final
 * status also settles what hangs on the run: its schedule's failure streak (schedule-failures.ts)
 * and the parents waiting for it (child-waits.ts). The only writer of `runs.status` after insert: a move the state machine (run-transitions.ts) does not
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
        ${movedColumns(sql, to, patch)},
        output = case when ${"output" in patch} then ${json(patch.output)}::jsonb else r.output end,
        error = case when ${"error" in patch} then ${json(patch.error)}::jsonb else r.error end,
        attempt = coalesce(${patch.attempt ?? null}, r.attempt)
      from before
      where r.id = before.id
      returning r.*, before.status as previous_status
    ), event as (
      insert into run_events (run_id, type, data)
      select id, 'transition',
        jsonb_build_object('from', previous_status, 'to', ${to}::text) || ${sql.json(eventData as never)}::jsonb
      from updated
    )${countScheduleOutcome(sql, to)}${completeChildWaits(sql, to)}
    select * from updated`
  if (!row) return null
  const { previousStatus: _, ...run } = row
  return run
}

/** One run of a batched transition: its own guard, attempt and event data. */
export interface RunTransitionItem {
  runId: string
  /** The run's new attempt number (kept when omitted). */
  attempt?: number
  /** Only while this runner holds the run (null: no runner); unchecked when omitted. */
  runnerId?: string | null
  /** Only while the run is at this attempt; unchecked when omitted. */
  expectAttempt?: number
  /** Merged into the shared event data of this run's transition event. */
  eventData?: Record<string, unknown>
}

/**
 * transitionRun for many runs in one statement (a runner claiming a batch it leased): the same
 * compare-and-set, per run, with the same transition event, so each run moves at most once and
 * the ones someone else moved first are simply missing from the result; a final status settles
 * the parents waiting for each run (child-waits.ts) as transitionRun does. Rows are locked in id
 * order, so concurrent batches cannot deadlock. Not for failure statuses: a schedule's failure
 * streak must count each run's end separately (countScheduleOutcome), which one statement over
 * several runs of one instance would not.
 */
export async function transitionRuns(
  sql: Tx,
  items: readonly RunTransitionItem[],
  from: readonly RunStatus[],
  to: RunStatus,
  patch: Omit<TransitionPatch, "attempt" | "error"> = {},
  eventData: Record<string, unknown> = {},
): Promise<RunRow[]> {
  return moveWholeRuns(sql, { items, from, to, patch, eventData })
}

/**
 * transitionRuns that returns only the ids of the runs it moved: for a caller that needs no row
 * back (a batch of no-op runs completed at once), the same statement without parsing every
 * moved run's whole row.
 */
export async function transitionRunIds(
  ...[sql, items, from, to, patch = {}, eventData = {}]: Parameters<typeof transitionRuns>
): Promise<string[]> {
  const rows = await moveRuns<{ id: string }>(sql, { items, from, to, patch, eventData }, sql`id`)
  return rows.map((r) => r.id)
}

/** What a runner's batched claim asks of each run (claimQueuedRuns). */
export interface RunClaim {
  runnerId: string
  leaseExpiresAt: Date
  /** Runs due by then are claimed (a run due a moment later starts at once anyway). */
  dueBy: Date
  /** Runs expired by then are not (the caller expires them). */
  now: Date
  /**
   * A limited queue's runs instead of unlimited ones: only runs of this gate (environment, queue,
   * concurrency key and limit), and at most `slots` of them, in id order (oldest first). The
   * caller holds the gate's lock and counted its free slots in the same transaction.
   */
  gate?: GateClaim
}

/** The gate of a limited queue's batched claim (RunClaim.gate). */
export interface GateClaim {
  environmentId: string
  /** The run's queue as the gate names it (`task:<taskId>` for a task's own queue). */
  queue: string
  concurrencyKey: string | null
  limit: number
  slots: number
}

/**
 * A runner's claim of runs it leased from the queue, in one statement and no prior read: moves to
 * `starting`, under `runnerId` with its lease, each of `runIds` that a compare-and-set alone may
 * claim (queued, held by no runner, due by `dueBy`, not expired at `now`, of a queue without a
 * concurrency limit) at its next attempt, with the event `{ runnerId, attempt }`. Returns the
 * runs it moved, whole; the others are left as they were, for the caller to read and sort out
 * (a waiting run coming back, an early or expired entry, a limited queue, a run someone took).
 * With `claim.gate`, the same for the runs of one limited queue, up to its free slots.
 */
export async function claimQueuedRuns(
  sql: Tx,
  runIds: readonly string[],
  claim: RunClaim,
): Promise<RunRow[]> {
  return moveWholeRuns(sql, {
    items: runIds.map((runId) => ({ runId })),
    from: ["queued"],
    to: "starting",
    patch: { runnerId: claim.runnerId, leaseExpiresAt: claim.leaseExpiresAt },
    eventData: { runnerId: claim.runnerId },
    claim,
  })
}

interface RunsMove {
  items: readonly RunTransitionItem[]
  from: readonly RunStatus[]
  to: RunStatus
  patch: Omit<TransitionPatch, "attempt" | "error">
  eventData: Record<string, unknown>
  /** A runner's claim: only runs it may take by compare-and-set alone, each at its next attempt. */
  claim?: RunClaim
}

/** Which of a claim's runs a compare-and-set alone may take (claimQueuedRuns). */
function claimConditions(sql: Tx, claim: RunClaim) {
  const { gate } = claim
  const queue = gate
    ? sql`r.concurrency_limit = ${gate.limit} and r.environment_id = ${gate.environmentId}
      and coalesce(r.queue, 'task:' || r.task_id) = ${gate.queue}
      and r.concurrency_key is not distinct from ${gate.concurrencyKey}`
    : sql`r.concurrency_limit is null`
  return sql`and r.runner_id is null and ${queue}
    and r.available_at <= ${claim.dueBy} and (r.expires_at is null or r.expires_at > ${claim.now})`
}

/** moveRuns returning each moved run whole, without the statement's own columns. */
async function moveWholeRuns(sql: Tx, move: RunsMove): Promise<RunRow[]> {
  const rows = await moveRuns<RunRow & { previousStatus: RunStatus; eventData: unknown }>(
    sql,
    move,
    sql`*`,
  )
  return rows.map(({ previousStatus: _, eventData: __, ...run }) => run)
}

/**
 * The statement of transitionRuns, transitionRunIds and claimQueuedRuns; `columns` of the moved
 * runs come back.
 */
async function moveRuns<Row extends object>(
  sql: Tx,
  { items, from, to, patch, eventData, claim }: RunsMove,
  columns: ReturnType<Tx>,
): Promise<Row[]> {
  assertRunTransitions(from, to)
  if ((FAILURE_STATUSES as readonly RunStatus[]).includes(to))
    throw new Error(`transitionRuns cannot move runs to ${to}: use transitionRun per run`)
  if (items.length === 0) return []
  const input = items.map((i) => ({
    id: i.runId,
    attempt: i.attempt ?? null,
    check_runner: i.runnerId !== undefined,
    runner_id: i.runnerId ?? null,
    expect_attempt: i.expectAttempt ?? null,
    data: i.eventData ?? {},
  }))
  const output = "output" in patch ? sql.json((patch.output ?? null) as never) : null
  return sql<Row[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(input as never)}::jsonb) as v(
        id text, attempt int, check_runner boolean, runner_id text, expect_attempt int, data jsonb)
    ), before as (
      select r.id, r.status, ${
        claim
          ? sql`r.attempt + 1 as next_attempt, i.data || jsonb_build_object('attempt', r.attempt + 1) as data`
          : sql`i.attempt as next_attempt, i.data`
      }
      from runs r join input i on i.id = r.id
      where r.id = any(${input.map((i) => i.id)}::text[]) and r.status in ${sql(from as RunStatus[])}
        and (not i.check_runner or r.runner_id is not distinct from i.runner_id)
        and (i.expect_attempt is null or r.attempt = i.expect_attempt)
        ${claim ? claimConditions(sql, claim) : sql``}
      order by r.id
      ${claim?.gate ? sql`limit ${claim.gate.slots}` : sql``}
      for update of r
    ), updated as (
      update runs r set
        ${movedColumns(sql, to, patch)},
        output = case when ${"output" in patch} then ${output}::jsonb else r.output end,
        attempt = coalesce(before.next_attempt, r.attempt)
      from before
      where r.id = before.id
      returning r.*, before.status as previous_status, before.data as event_data
    ), event as (
      insert into run_events (run_id, type, data)
      select id, 'transition',
        jsonb_build_object('from', previous_status, 'to', ${to}::text)
          || ${sql.json(eventData as never)}::jsonb || event_data
      from updated
    )${countScheduleOutcome(sql, to)}${completeChildWaits(sql, to)}
    select ${columns} from updated`
}
