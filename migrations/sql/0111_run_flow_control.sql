-- Flow control of runs (issue 11). Each run carries its queue (a named one, or `task:<task id>`),
-- an optional concurrency key and the concurrency limit resolved when it was created (task
-- declaration, then trigger or schedule options), plus its retry backoff. The runner's gate counts
-- a queue's `starting`/`running` runs in Postgres, under an advisory lock per (environment, queue,
-- key), before it claims one: waiting runs hold no slot, and a slot of a dead runner comes back
-- when its run is recovered after its lease lapsed.
alter table runs
  add column queue text,
  add column concurrency_key text,
  add column concurrency_limit integer check (concurrency_limit > 0),
  add column retry jsonb;

create index runs_queue_active_idx on runs (environment_id, queue, concurrency_key)
  where status in ('starting', 'running');
