#!/usr/bin/env bash
# The README's first command: brings Helmr up on this machine and runs a task end to end.
#   bash scripts/up.sh         install what is missing, (re)start api, dispatcher and runner,
#                              deploy examples/ and run review-pr, printing its logs and output
#   bash scripts/up.sh stop    stop the three services
#   bash scripts/up.sh project <name>
#                              your own project (dev, staging, prod) with its dev key, printed and
#                              kept in .helmr/keys.json; up.sh never deploys into it
# Idempotent: services that run the current code and answer their health check are reused;
# others are restarted. State lives in .helmr/ (env, keys, logs, pid files).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE=$ROOT/.helmr
mkdir -p "$STATE/logs" "$STATE/pids"
say() { echo "up: $*"; }

SERVICES="api dispatcher runner"
port_of() {
  case $1 in
    api) echo "${HELMR_API_PORT:-3000}" ;;
    dispatcher) echo "${HELMR_DISPATCHER_PORT:-3001}" ;;
    runner) echo "${HELMR_RUNNER_PORT:-3002}" ;;
  esac
}

pid_of() { # the pid of a service we started, if it still runs
  local file=$STATE/pids/$1.pid pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1/main.ts" || return 1
  echo "$pid"
}

stop_service() {
  local pid
  pid=$(pid_of "$1") || { rm -f "$STATE/pids/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/pids/$1.pid"
  say "$1 stopped (pid $pid)"
}

if [ "${1:-}" = "stop" ]; then
  for s in $SERVICES; do stop_service "$s"; done
  exit 0
fi

if [ "${1:-}" = "project" ]; then
  [ -n "${2:-}" ] || { echo "usage: bash scripts/up.sh project <name>" >&2; exit 2; }
  [ -f "$STATE/env" ] || { echo "up: run 'bash scripts/up.sh' first" >&2; exit 1; }
  set -a
  # shellcheck disable=SC1091
  . "$STATE/env"
  set +a
  exec bun scripts/up/prepare.ts --project "$2"
fi

# --- Tools and services -------------------------------------------------------------------------
bash scripts/ensure-bun.sh
bun install --frozen-lockfile >/dev/null
bash scripts/services.sh
bash scripts/base-image.sh

# --- Configuration (made once, kept in .helmr/env) ------------------------------------------------
# The encryption key belongs to the database (machine-wide), not to this checkout: a second clone
# on this machine meets the same `helmr` database and must seal and open with the same key.
KEYFILE=${HELMR_LOCAL_KEY_FILE:-${XDG_STATE_HOME:-$HOME/.local/state}/helmr/encryption-key}
if [ ! -f "$STATE/env" ]; then
  umask 077
  mkdir -p "$(dirname "$KEYFILE")"
  if [ -s "$KEYFILE" ]; then
    key=$(cat "$KEYFILE")
    say "using this machine's encryption key ($KEYFILE)"
  else
    key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$key" >"$KEYFILE"
    say "new encryption key written to $KEYFILE (back it up: secrets cannot be opened without it)"
  fi
  cat >"$STATE/env" <<ENV
HELMR_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helmr
HELMR_VALKEY_URL=redis://127.0.0.1:6379
HELMR_KEY_PREFIX=helmr
HELMR_ENCRYPTION_KEY=$key
HELMR_RUNNER_ID=local
ENV
  umask 022
  say "configuration written to .helmr/env"
fi
set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a

# --- Database, project, key, secrets --------------------------------------------------------------
bun scripts/up/prepare.ts

# --- Services -------------------------------------------------------------------------------------
revision() { # what the services run: the commit plus any uncommitted change
  { git rev-parse HEAD 2>/dev/null; git status --porcelain -- api dispatcher runner sdk migrations 2>/dev/null; git diff -- api dispatcher runner sdk migrations 2>/dev/null; } | sha256sum | cut -c1-16
}
healthy() { bun -e "const r = await fetch('http://127.0.0.1:$1/healthz').catch(() => null); process.exit(r?.ok ? 0 : 1)" 2>/dev/null; }
REV=$(revision)

start_service() {
  local name=$1 port pid
  port=$(port_of "$name")
  if pid=$(pid_of "$name") && [ "$(cat "$STATE/pids/$name.rev" 2>/dev/null)" = "$REV" ] && healthy "$port"; then
    say "$name: reusing pid $pid on :$port"
    return 0
  fi
  stop_service "$name"
  if healthy "$port"; then
    say "$name: port $port is answering but not as a service started here; stop it first"; exit 1
  fi
  HELMR_MIGRATE_ON_START=false nohup bun "$name/main.ts" >>"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name.pid"
  echo "$REV" >"$STATE/pids/$name.rev"
  for _ in $(seq 1 150); do
    if healthy "$port"; then say "$name: started pid $! on :$port (log .helmr/logs/$name.log)"; return 0; fi
    kill -0 "$!" 2>/dev/null || break
    sleep 0.2
  done
  say "$name did not come up; the end of .helmr/logs/$name.log:"
  tail -n 30 "$STATE/logs/$name.log"
  exit 1
}
for s in $SERVICES; do start_service "$s"; done

# --- Deploy examples/ (into the examples project only) and run review-pr end to end ---------------
HELMR_API_URL=http://127.0.0.1:$(port_of api)
export HELMR_API_URL
HELMR_API_KEY=$(bash scripts/up/deploy-examples.sh "$STATE/keys.json")
export HELMR_API_KEY
bun scripts/up/run-example.ts review-pr '{"prNumber":42}'
say "your own tasks: bash scripts/up.sh project my-tasks (a project of yours, never redeployed by up.sh)"
say "Helmr is up: API $HELMR_API_URL (dev key in .helmr/keys.json), logs in .helmr/logs/; stop with: bash scripts/up.sh stop"
say "Dashboard: $HELMR_API_URL/ (sign in as admin@helmr.local, password in .helmr/keys.json)"
