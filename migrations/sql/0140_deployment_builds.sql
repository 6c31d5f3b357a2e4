-- Deploy-time builds (issue 12): after upload, one runner builds a deployment's images and records
-- the outcome here; promotion refuses a deployment whose build is not `ready`.
--
-- The building runner holds a lease (`build_lease_expires_at`), renewed while it builds; a runner
-- that dies mid-build lets the lease lapse and another runner claims the build again
-- (`build_attempts` counts the claims). Deployments made before this migration count as built:
-- their images were built by their first run, as runs still do when an image is missing.
alter table deployments
  add column build_status text not null default 'ready'
    check (build_status in ('pending', 'building', 'ready', 'failed')),
  add column build_error jsonb,
  add column build_runner_id text,
  add column build_lease_expires_at timestamptz,
  add column build_attempts integer not null default 0 check (build_attempts >= 0),
  add column build_started_at timestamptz,
  add column build_finished_at timestamptz;
alter table deployments alter column build_status set default 'pending';

-- The claim scans only unfinished builds.
create index deployments_build_queue_idx on deployments (created_at)
  where build_status in ('pending', 'building');

-- The build log: BuildKit steps, their output, and the outcome, per claim (`attempt`).
create table deployment_build_events (
  id bigserial primary key,
  deployment_id text not null references deployments (id) on delete cascade,
  attempt integer not null,
  level text not null check (level in ('info', 'error')),
  message text not null,
  data jsonb,
  created_at timestamptz not null default now()
);
create index deployment_build_events_deployment_idx on deployment_build_events (deployment_id, id);
