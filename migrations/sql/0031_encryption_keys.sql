-- Every encryption key version this database has been used with, by fingerprint (an HMAC under the
-- key of a fixed text: it identifies the key without revealing it). A service configured with a key
-- whose fingerprint differs refuses to start, instead of failing later on the first secret it opens.
create table encryption_keys (
  version integer primary key check (version > 0),
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now()
);
