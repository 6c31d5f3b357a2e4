-- Schedule flow control (issue 11): overlap and catch-up policies, pause after failures, slot
-- reasons and per-instance slot counters.

alter table schedule_instances
  -- What a slot does while this instance's previous run is still active (docs/schedules.md).
  add column overlap text not null default 'allow'
    check (overlap in ('allow', 'skip', 'bufferOne', 'cancelPrevious')),
  -- A slot reached later than this after its nominal time is skipped (null: no window).
  add column catchup_window_ms bigint check (catchup_window_ms > 0),
  -- Deactivate after this many consecutive scheduled runs end failed/crashed/timed_out.
  add column pause_after_failures integer check (pause_after_failures between 1 and 1000),
  add column consecutive_failures integer not null default 0,
  -- The runs of the current failure streak (the newest 100), shown when the instance pauses.
  add column failure_run_ids text[] not null default '{}',
  -- Why an inactive instance is inactive: 'manual' (deactivate) or 'failures' (pauseAfterFailures).
  add column inactive_reason text check (inactive_reason in ('manual', 'failures')),
  -- Slot counters, kept by the statement that records the slots (retrieve reads no history).
  add column slots_fired bigint not null default 0,
  add column slots_failed bigint not null default 0,
  add column slots_skipped_missed bigint not null default 0,
  add column slots_skipped_overlap bigint not null default 0,
  add column slots_skipped_catchup_window bigint not null default 0;

update schedule_instances set inactive_reason = 'manual' where not active;

-- Why a slot was skipped ('missed': passed while no dispatcher fired it; 'overlap';
-- 'catchup_window'), or how a fired slot ran ('buffered', 'canceled_previous').
alter table schedule_slots add column reason text;
update schedule_slots set reason = 'missed' where outcome = 'skipped';

-- Existing counters from existing history (skipped ranges too long to count count 10,000).
update schedule_instances si set
  slots_fired = c.fired, slots_failed = c.failed, slots_skipped_missed = c.missed
from (
  select instance_id,
    count(*) filter (where outcome = 'fired') as fired,
    count(*) filter (where outcome = 'failed') as failed,
    coalesce(sum(coalesce(slot_count, 10000)) filter (where outcome = 'skipped'), 0) as missed
  from schedule_slots group by instance_id
) c
where c.instance_id = si.id;

-- A run held behind its instance's active run (overlap bufferOne / cancelPrevious): queued with
-- available_at far in the future until the dispatcher releases it. At most one per instance.
alter table runs add column held boolean not null default false;
-- A held run that is canceled or expires keeps the flag; only queued ones count.
create unique index runs_one_held_per_instance_idx on runs (schedule_instance_id)
  where held and status = 'queued';

-- The overlap check: an instance's runs that are not final.
create index runs_instance_active_idx on runs (schedule_instance_id)
  where schedule_instance_id is not null
    and status in ('queued', 'starting', 'running', 'waiting');

-- The last run of an instance (retrieve's lastRunStatus) and the slot history's run statuses.
create index runs_instance_slot_idx on runs (schedule_instance_id, slot_at desc)
  where schedule_instance_id is not null;
