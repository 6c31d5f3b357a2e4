#!/bin/sh
set -eu
if [ "${1:-}" = valkey-server ]; then
  shift
  case "${1:-}" in *.conf) ;; *) set -- --protected-mode no --bind 0.0.0.0 "$@" ;; esac
  set -- valkey-server "$@"
fi
if [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
