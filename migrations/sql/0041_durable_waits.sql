-- Durable waits of the in-task runtime (docs/runtime.md): a run may also wait for a child run
-- (`runs.triggerAndWait`), and tokens carry tags. Waits a task makes are keyed by
-- `run:<run id>:<call seq>` in idempotency_key, so a retried attempt finds the waits its lost
-- attempt completed.
alter table waitpoints drop constraint waitpoints_kind_check;
alter table waitpoints add constraint waitpoints_kind_check check (kind in ('timer', 'token', 'run'));
alter table waitpoints add column child_run_id text references runs (id) on delete cascade;
alter table waitpoints add column tags text[] not null default '{}';
create index waitpoints_child_run_idx on waitpoints (child_run_id) where child_run_id is not null;
create index waitpoints_token_timeout_idx on waitpoints (timeout_at)
  where status = 'pending' and kind = 'token' and timeout_at is not null;

-- A child run reaching a final status completes the waitpoints that wait for it and wakes their
-- parent (waiting -> queued, with its transition event) in the same transaction as the child's
-- own transition: whichever service ends the child (runner, API cancel, dispatcher expiry,
-- recovery), the parent can never miss it. The runner holding the parent's sandbox sees the
-- parent queued and resumes it.
create function helmr_complete_child_waits() returns trigger language plpgsql as $$
declare
  wp record;
begin
  for wp in
    update waitpoints
    set status = 'completed', completed_at = now(),
      data = case when new.status = 'succeeded'
        then jsonb_build_object('ok', true, 'id', new.id, 'status', new.status, 'output', new.output)
        else jsonb_build_object('ok', false, 'id', new.id, 'status', new.status,
          'error', coalesce(new.error, jsonb_build_object('name', 'RunError', 'message', 'run ' || new.status)))
      end
    where child_run_id = new.id and kind = 'run' and status = 'pending'
    returning id, run_id
  loop
    with moved as (
      update runs set status = 'queued', available_at = now(), updated_at = now()
      where id = wp.run_id and status = 'waiting'
      returning id
    )
    insert into run_events (run_id, type, data)
    select id, 'transition', jsonb_build_object('from', 'waiting', 'to', 'queued',
      'reason', 'child run', 'waitpointId', wp.id, 'childRunId', new.id)
    from moved;
  end loop;
  return null;
end $$;

create trigger runs_complete_child_waits
  after update of status on runs
  for each row
  when (new.status in ('succeeded', 'failed', 'canceled', 'timed_out', 'crashed', 'expired')
    and old.status is distinct from new.status)
  execute function helmr_complete_child_waits();
