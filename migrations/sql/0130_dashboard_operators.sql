-- Dashboard (issue 13): operators who sign in to the web UI, what they may see, their sessions.
-- Operators are people, not environments: they sign in with an email and a password (argon2id,
-- PHC string) and see only the environments they are members of.

create table operators (
  id text primary key,
  email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$'),
  password_hash text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (email)
);

create table operator_memberships (
  operator_id text not null references operators (id) on delete cascade,
  environment_id text not null references environments (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (operator_id, environment_id)
);
create index operator_memberships_environment_idx on operator_memberships (environment_id);

-- Only a SHA-256 of the session token is stored (the token is random: no slow hash needed). The
-- CSRF token is per session and rendered into every form, so it is stored as it is.
create table operator_sessions (
  id text primary key,
  operator_id text not null references operators (id) on delete cascade,
  token_hash bytea not null unique,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index operator_sessions_operator_idx on operator_sessions (operator_id);
