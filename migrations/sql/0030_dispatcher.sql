-- Dispatcher (issue 5): slot ranges, and the indexes its sweeps read.

-- A row of schedule_slots stands for one slot (fired, failed) or, for `skipped`, for every slot
-- from slot_at through last_slot_at that passed while no dispatcher could fire them (downtime,
-- backlog): one row per downtime, however long, instead of one per missed slot.
-- slot_count is exact, or null when the range was too long to enumerate (then last_slot_at is the
-- dispatch time and the range still covers every slot in it).
alter table schedule_slots
  add column last_slot_at timestamptz,
  add column slot_count integer default 1 check (slot_count > 0),
  add constraint schedule_slots_range_check check (last_slot_at is null or last_slot_at >= slot_at);

-- Repair walks queued runs to put back those missing from the Valkey run queue.
create index runs_queued_idx on runs (id) where status = 'queued';
-- The expiry sweep: queued runs whose ttl has passed.
create index runs_queued_expiry_idx on runs (expires_at)
  where status = 'queued' and expires_at is not null;
