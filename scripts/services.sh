#!/usr/bin/env bash
# Makes sure Postgres, Valkey (Redis 7 stands in) and a Docker Engine are reachable on this machine.
# Reuses what runs; starts what is installed but stopped; installs what is missing from Debian's
# packages (needs root). Idempotent: a second run only reports. Prints what it did.
set -euo pipefail

log() { echo "services: $*"; }
APT_UPDATED=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then log "cannot install $* without root"; exit 1; fi
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" && return 0; sleep 0.2; done
  log "$what did not come up within ${seconds}s"; return 1
}

# --- Postgres ---------------------------------------------------------------------------------
if port_open 5432; then
  log "postgres: reusing the server on 127.0.0.1:5432"
else
  installed_now=0
  if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    installed_now=1
    log "postgres: installed from Debian's packages"
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$installed_now" = 1 ]; then
    # A fresh local install for development: trust connections from loopback only.
    hba=/etc/postgresql/$version/main/pg_hba.conf
    sed -i -E 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[a-z0-9-]+#\1trust#' "$hba"
    log "postgres: loopback connections trusted (local development install)"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for postgres 30 port_open 5432
  log "postgres: started cluster $version/main on 127.0.0.1:5432"
fi

# --- Valkey / Redis ---------------------------------------------------------------------------
if port_open 6379; then
  log "valkey: reusing the server on 127.0.0.1:6379"
else
  if command -v valkey-server >/dev/null 2>&1; then server=valkey-server
  elif command -v redis-server >/dev/null 2>&1; then server=redis-server
  else
    apt_install redis-server
    server=redis-server
    log "valkey: installed redis-server from Debian's packages (wire-compatible)"
  fi
  mkdir -p /var/lib/redis /var/log/redis
  "$server" --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/helmr.log
  wait_for valkey 15 port_open 6379
  log "valkey: started $server on 127.0.0.1:6379"
fi

# --- Docker Engine ----------------------------------------------------------------------------
docker_up() { docker info >/dev/null 2>&1; }
if docker_up; then
  log "docker: reusing the running engine"
else
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
    log "docker: installed docker.io from Debian's packages"
  fi
  if ! command -v docker >/dev/null 2>&1; then apt_install docker.io; fi
  nohup dockerd >/var/log/helmr-dockerd.log 2>&1 &
  wait_for docker 60 docker_up
  log "docker: started dockerd (log: /var/log/helmr-dockerd.log)"
fi
