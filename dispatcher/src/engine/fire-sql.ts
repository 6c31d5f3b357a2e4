import type { TransactionSql } from "@helmr/migrations/db"
import type { RunFlow } from "@helmr/migrations/run-flow"
import type { Overlap, SlotReason } from "@helmr/sdk/contract"
import type { ActiveRun } from "./overlap.ts"

/**
 * The Postgres side of a fire, set-based so one transaction fires a whole leased batch. It writes
 * exactly what `insertRun` writes for each run (a queued run, its session, a 'queued' transition
 * event), idempotent by the same unique (environment_id, idempotency_key) constraint; one
 * statement for hundreds of runs instead of four round trips each is what lets 10,000 slots due
 * at one instant fire within a second.
 */

/** An instance as the fire sees it, row-locked until the transaction ends. */
export interface InstanceSnapshot {
  id: string
  version: string
  active: boolean
  nextFireAt: Date | null
  lastFiredAt: Date | null
  runOptions: unknown
  environmentId: string
  scheduleId: string
  taskId: string
  cron: string
  timezone: string
  externalId: string | null
  /** environments.current_deployment_id. */
  deploymentId: string | null
  /** The task's entry in that deployment's manifest; null when it is not there. */
  task: unknown
  overlap: Overlap
  catchupWindowMs: number | null
  /** The instance's runs that are not final; read only when `overlap` is not `allow`. */
  activeRuns: ActiveRun[]
}

/**
 * Locks the instances (in id order, so concurrent batches cannot deadlock) and reads what a fire
 * needs. While a fire holds these locks, an API edit, deactivation or delete of the instance
 * waits: a change is acknowledged only after any fire of the old definition has committed.
 */
export async function lockInstances(
  tx: TransactionSql,
  ids: readonly string[],
): Promise<Map<string, InstanceSnapshot>> {
  // The manifest is read once per (deployment, task) of the batch, not once per instance: a
  // batch is usually hundreds of instances of a few tasks of one deployment.
  const rows = await tx<InstanceSnapshot[]>`
    with locked as (
      select si.id, si.version, si.active, si.next_fire_at, si.last_fired_at, si.run_options,
        si.environment_id, s.id as schedule_id, s.task_id, s.cron, s.timezone, s.external_id,
        e.current_deployment_id as deployment_id, si.overlap,
        si.catchup_window_ms::float8 as catchup_window_ms
      from schedule_instances si
      join schedules s on s.id = si.schedule_id
      join environments e on e.id = si.environment_id
      where si.id = any(${ids as string[]}::text[])
      order by si.id
      for update of si
    ), tasks as (
      select p.deployment_id, p.task_id, t.task
      from (select distinct deployment_id, task_id from locked where deployment_id is not null) p
      join deployments d on d.id = p.deployment_id
      cross join lateral (
        select x as task
        from jsonb_array_elements(
          case when jsonb_typeof(d.manifest -> 'tasks') = 'array' then d.manifest -> 'tasks'
          else '[]'::jsonb end
        ) x
        where x ->> 'id' = p.task_id
        limit 1
      ) t
    )
    select l.*, t.task,
      case when l.overlap = 'allow' then '[]'::jsonb else (
        select coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'status', r.status, 'held', r.held)
          order by r.slot_at), '[]'::jsonb)
        from runs r
        where r.schedule_instance_id = l.id
          and r.status in ('queued', 'starting', 'running', 'waiting')
      ) end as active_runs
    from locked l
    left join tasks t on t.deployment_id = l.deployment_id and t.task_id = l.task_id`
  return new Map(rows.map((row) => [row.id, row]))
}

export interface ScheduledRun {
  id: string
  sessionId: string
  environmentId: string
  deploymentId: string
  taskId: string
  scheduleId: string
  instanceId: string
  slotAt: Date
  payload: unknown
  idempotencyKey: string
  tags: string[]
  maxAttempts: number
  maxDurationSeconds: number | null
  availableAt: Date
  /** Held behind the instance's active run until the dispatcher releases it. */
  held: boolean
  expiresAt: Date | null
  /** Flow control (migrations/src/run-flow.ts). */
  queue: string
  concurrencyKey: string | null
  concurrencyLimit: number | null
  retry: RunFlow["retry"]
}

/**
 * Inserts the runs (and, for those actually inserted, their sessions and 'queued' events).
 * Returns the id of each idempotency key's run: the new one, or the one that already existed.
 */
export async function insertScheduledRuns(
  tx: TransactionSql,
  runs: readonly ScheduledRun[],
): Promise<{ ids: Map<string, string>; created: Set<string> }> {
  const ids = new Map<string, string>()
  const created = new Set<string>()
  if (runs.length === 0) return { ids, created }
  // The rows travel as one JSON document (JSON.stringify is native and fast; postgres.js
  // escaping of big text arrays is not): a fire's cost is mostly serialisation.
  const input = runs.map((r) => ({
    id: r.id,
    session_id: r.sessionId,
    environment_id: r.environmentId,
    deployment_id: r.deploymentId,
    task_id: r.taskId,
    schedule_id: r.scheduleId,
    schedule_instance_id: r.instanceId,
    slot_at: r.slotAt,
    payload: r.payload,
    tags: r.tags,
    idempotency_key: r.idempotencyKey,
    max_attempts: r.maxAttempts,
    max_duration_seconds: r.maxDurationSeconds,
    available_at: r.availableAt,
    held: r.held,
    expires_at: r.expiresAt,
    queue: r.queue,
    concurrency_key: r.concurrencyKey,
    concurrency_limit: r.concurrencyLimit,
    retry: r.retry,
  }))
  // Runs first, then sessions only for runs that were inserted: the foreign key is checked at
  // the end of the statement, and a conflicting slot leaves no orphan session behind.
  const inserted = await tx<{ id: string; idempotencyKey: string }[]>`
    with created as (
      insert into runs (id, environment_id, deployment_id, task_id, session_id, schedule_id,
        schedule_instance_id, slot_at, payload, tags, idempotency_key, max_attempts,
        max_duration_seconds, available_at, held, expires_at, created_at, updated_at,
        queue, concurrency_key, concurrency_limit, retry)
      select id, environment_id, deployment_id, task_id, session_id, schedule_id,
        schedule_instance_id, slot_at, payload, tags, idempotency_key, max_attempts,
        max_duration_seconds, available_at, held, expires_at,
        greatest(now(), slot_at), greatest(now(), slot_at),
        queue, concurrency_key, concurrency_limit, retry
      from jsonb_to_recordset(${tx.json(input as never)}) as t(id text, session_id text,
        environment_id text, deployment_id text, task_id text, schedule_id text,
        schedule_instance_id text, slot_at timestamptz, payload jsonb, tags text[],
        idempotency_key text, max_attempts int, max_duration_seconds int,
        available_at timestamptz, held boolean, expires_at timestamptz, queue text,
        concurrency_key text, concurrency_limit int, retry jsonb)
      on conflict (environment_id, idempotency_key) do nothing
      returning id, environment_id, task_id, session_id, idempotency_key, created_at
    ), sessions_made as (
      insert into sessions (id, environment_id, task_id, created_at)
      select session_id, environment_id, task_id, created_at from created
    ), events as (
      insert into run_events (run_id, type, data, created_at)
      select id, 'transition', '{"from": null, "to": "queued"}'::jsonb, created_at from created
    )
    select id, idempotency_key from created`
  for (const row of inserted) {
    ids.set(row.idempotencyKey, row.id)
    created.add(row.id)
  }
  const missing = runs.filter((r) => !ids.has(r.idempotencyKey))
  if (missing.length > 0) {
    const existing = await tx<{ id: string; idempotencyKey: string }[]>`
      select r.id, r.idempotency_key from runs r
      join unnest(${missing.map((r) => r.environmentId)}::text[],
        ${missing.map((r) => r.idempotencyKey)}::text[]) as k(environment_id, idempotency_key)
        on r.environment_id = k.environment_id and r.idempotency_key = k.idempotency_key`
    for (const row of existing) ids.set(row.idempotencyKey, row.id)
  }
  return { ids, created }
}

export interface CursorMove {
  instanceId: string
  /** null parks the instance (its cron no longer computes); repair leaves it alone. */
  next: Date | null
  /** The slot fired (becomes last_fired_at); null when the slot failed. */
  firedSlot: Date | null
}

/**
 * Moves the cursors of instances this transaction holds locked, and adds the decided slots to
 * each instance's slot counters in the same statement (retrieve reads the counters, never the
 * history). A range too long to count counts 10,000.
 */
export async function moveCursors(
  tx: TransactionSql,
  writes: readonly { move: CursorMove; slots: readonly SlotRecord[] }[],
): Promise<void> {
  if (writes.length === 0) return
  const input = writes.map(({ move, slots }) => ({
    id: move.instanceId,
    next: move.next,
    fired: move.firedSlot,
    ...countSlots(slots),
  }))
  await tx`
    update schedule_instances si
    set next_fire_at = m.next, last_fired_at = coalesce(m.fired, si.last_fired_at),
      slots_fired = si.slots_fired + m.n_fired, slots_failed = si.slots_failed + m.n_failed,
      slots_skipped_missed = si.slots_skipped_missed + m.n_missed,
      slots_skipped_overlap = si.slots_skipped_overlap + m.n_overlap,
      slots_skipped_catchup_window = si.slots_skipped_catchup_window + m.n_catchup
    from jsonb_to_recordset(${tx.json(input as never)})
      as m(id text, next timestamptz, fired timestamptz, n_fired int, n_failed int,
        n_missed int, n_overlap int, n_catchup int)
    where si.id = m.id`
}

/** Slot counts of one decision, by counter column. */
export function countSlots(slots: readonly SlotRecord[]) {
  const counts = { n_fired: 0, n_failed: 0, n_missed: 0, n_overlap: 0, n_catchup: 0 }
  for (const slot of slots) {
    const n = slot.slotCount ?? 10_000
    if (slot.outcome === "fired") counts.n_fired += n
    else if (slot.outcome === "failed") counts.n_failed += n
    else if (slot.reason === "overlap") counts.n_overlap += n
    else if (slot.reason === "catchup_window") counts.n_catchup += n
    else counts.n_missed += n
  }
  return counts
}

export interface SlotRecord {
  instanceId: string
  slotAt: Date
  outcome: "fired" | "skipped" | "failed"
  /** Why a slot was skipped, or how a fired one ran (buffered, canceled_previous). */
  reason: SlotReason | null
  runId: string | null
  attempts: number
  error: string | null
  /** For a skipped range: its last slot (or the dispatch time when not enumerated). */
  lastSlotAt: Date | null
  /** Slots the row stands for; null when a skipped range was too long to count. */
  slotCount: number | null
}

/** Records slot outcomes; recorded_at is the statement's clock, i.e. just before commit. */
export async function recordSlots(tx: TransactionSql, slots: readonly SlotRecord[]): Promise<void> {
  if (slots.length === 0) return
  const input = slots.map((slot) => ({
    instance_id: slot.instanceId,
    slot_at: slot.slotAt,
    outcome: slot.outcome,
    reason: slot.reason,
    run_id: slot.runId,
    attempts: slot.attempts,
    error: slot.error,
    last_slot_at: slot.lastSlotAt,
    slot_count: slot.slotCount,
  }))
  await tx`
    insert into schedule_slots (instance_id, slot_at, outcome, reason, run_id, attempts, error,
      last_slot_at, slot_count, recorded_at)
    select instance_id, slot_at, outcome, reason, run_id, attempts, error, last_slot_at,
      slot_count, clock_timestamp()
    from jsonb_to_recordset(${tx.json(input as never)}) as s(instance_id text,
      slot_at timestamptz, outcome text, reason text, run_id text, attempts int, error text,
      last_slot_at timestamptz, slot_count int)
    on conflict (instance_id, slot_at) do nothing`
}
