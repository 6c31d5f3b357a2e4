import type { TransactionSql } from "@helmr/migrations/db"

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
  const rows = await tx<InstanceSnapshot[]>`
    select si.id, si.version, si.active, si.next_fire_at, si.last_fired_at, si.run_options,
      si.environment_id, s.id as schedule_id, s.task_id, s.cron, s.timezone, s.external_id,
      e.current_deployment_id as deployment_id, t.task
    from schedule_instances si
    join schedules s on s.id = si.schedule_id
    join environments e on e.id = si.environment_id
    left join deployments d on d.id = e.current_deployment_id
    left join lateral (
      select x as task
      from jsonb_array_elements(
        case when jsonb_typeof(d.manifest -> 'tasks') = 'array' then d.manifest -> 'tasks'
        else '[]'::jsonb end
      ) x
      where x ->> 'id' = s.task_id
      limit 1
    ) t on true
    where si.id = any(${ids as string[]}::text[])
    order by si.id
    for update of si`
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
  expiresAt: Date | null
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
  const col = <K extends keyof ScheduledRun>(key: K) => runs.map((r) => r[key])
  const iso = (dates: (Date | null)[]) => dates.map((d) => (d ? d.toISOString() : null))
  // Runs first, then sessions only for runs that were inserted: the foreign key is checked at
  // the end of the statement, and a conflicting slot leaves no orphan session behind.
  const inserted = await tx<{ id: string; idempotencyKey: string }[]>`
    with input as (
      select * from unnest(
        ${col("id")}::text[], ${col("sessionId")}::text[], ${col("environmentId")}::text[],
        ${col("deploymentId")}::text[], ${col("taskId")}::text[], ${col("scheduleId")}::text[],
        ${col("instanceId")}::text[], ${iso(col("slotAt"))}::timestamptz[],
        ${runs.map((r) => JSON.stringify(r.payload))}::text[],
        ${runs.map((r) => JSON.stringify(r.tags))}::text[], ${col("idempotencyKey")}::text[],
        ${col("maxAttempts")}::int[], ${col("maxDurationSeconds")}::int[],
        ${iso(col("availableAt"))}::timestamptz[], ${iso(col("expiresAt"))}::timestamptz[]
      ) as t(id, session_id, environment_id, deployment_id, task_id, schedule_id,
        schedule_instance_id, slot_at, payload, tags, idempotency_key, max_attempts,
        max_duration_seconds, available_at, expires_at)
    ), created as (
      insert into runs (id, environment_id, deployment_id, task_id, session_id, schedule_id,
        schedule_instance_id, slot_at, payload, tags, idempotency_key, max_attempts,
        max_duration_seconds, available_at, expires_at)
      select id, environment_id, deployment_id, task_id, session_id, schedule_id,
        schedule_instance_id, slot_at, payload::jsonb,
        array(select jsonb_array_elements_text(tags::jsonb)), idempotency_key, max_attempts,
        max_duration_seconds, available_at, expires_at
      from input
      on conflict (environment_id, idempotency_key) do nothing
      returning id, environment_id, task_id, session_id, idempotency_key
    ), sessions_made as (
      insert into sessions (id, environment_id, task_id)
      select session_id, environment_id, task_id from created
    ), events as (
      insert into run_events (run_id, type, data)
      select id, 'transition', '{"from": null, "to": "queued"}'::jsonb from created
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

/** Moves the cursors of instances this transaction holds locked. */
export async function moveCursors(tx: TransactionSql, moves: readonly CursorMove[]): Promise<void> {
  if (moves.length === 0) return
  await tx`
    update schedule_instances si
    set next_fire_at = m.next, last_fired_at = coalesce(m.fired, si.last_fired_at)
    from unnest(${moves.map((m) => m.instanceId)}::text[],
      ${moves.map((m) => m.next?.toISOString() ?? null)}::timestamptz[],
      ${moves.map((m) => m.firedSlot?.toISOString() ?? null)}::timestamptz[]) as m(id, next, fired)
    where si.id = m.id`
}

export interface SlotRecord {
  instanceId: string
  slotAt: Date
  outcome: "fired" | "skipped" | "failed"
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
  const col = <K extends keyof SlotRecord>(key: K) => slots.map((s) => s[key])
  await tx`
    insert into schedule_slots (instance_id, slot_at, outcome, run_id, attempts, error,
      last_slot_at, slot_count, recorded_at)
    select instance_id, slot_at, outcome, run_id, attempts, error, last_slot_at, slot_count,
      clock_timestamp()
    from unnest(${col("instanceId")}::text[],
      ${slots.map((s) => s.slotAt.toISOString())}::timestamptz[], ${col("outcome")}::text[],
      ${col("runId")}::text[], ${col("attempts")}::int[], ${col("error")}::text[],
      ${slots.map((s) => s.lastSlotAt?.toISOString() ?? null)}::timestamptz[],
      ${col("slotCount")}::int[])
      as s(instance_id, slot_at, outcome, run_id, attempts, error, last_slot_at, slot_count)
    on conflict (instance_id, slot_at) do nothing`
}
