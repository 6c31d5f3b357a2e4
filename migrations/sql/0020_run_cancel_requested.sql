-- A cancel asked for a run that has already started: the runner owning the run sees it (through
-- its heartbeat or the run's Valkey channel), aborts the task and moves the run to 'canceled'.
alter table runs add column cancel_requested_at timestamptz;
