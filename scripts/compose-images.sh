#!/usr/bin/env bash
# compose.yaml names the upstream images users pull (postgres:15-bookworm, valkey/valkey:8-bookworm,
# oven/bun:<version>-slim). This machine reaches no container registry, so when one of them is
# missing this script builds an equivalent from Debian's packages and tags it with the upstream
# name: the compose file under test stays the real one. A Debian root filesystem comes from
# debootstrap (cached as helmr-local/debian:bookworm). Each stand-in carries the label
# helmr.standin=<recipe checksum>; an image pulled from upstream is never replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts/compose-images
say() { echo "compose-images: $*"; }

need() { # need <command> <debian package>
  command -v "$1" >/dev/null 2>&1 && return
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  say "installed $2 from Debian's packages"
}
need debootstrap debootstrap
need docker-compose docker-compose

recipe() { cat "$@" | sha256sum | cut -c1-16; }
label() { docker image inspect --format '{{ index .Config.Labels "helmr.standin" }}' "$1" 2>/dev/null || true; }
present() { docker image inspect "$1" >/dev/null 2>&1; }

DEBIAN=helmr-local/debian:bookworm
if ! present "$DEBIAN"; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  say "debootstrap bookworm (minbase) for $DEBIAN, a few minutes once"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  tar -C "$root" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  rm -rf "$root"
  say "built $DEBIAN"
fi

standin() { # standin <upstream tag> <dockerfile> <context dir> [files whose content is in the recipe]
  local tag=$1 dockerfile=$2 context=$3
  shift 3
  local sum
  sum=$(recipe "$dockerfile" "$@")
  local current
  current=$(label "$tag")
  if present "$tag" && [ -z "$current" ]; then
    say "$tag is present (upstream), kept"
    return
  fi
  if [ "$current" = "$sum" ]; then
    say "$tag is up to date"
    return
  fi
  local log
  log=$(mktemp)
  if ! docker build --label "helmr.standin=$sum" -t "$tag" -f "$dockerfile" "$context" >"$log" 2>&1; then
    cat "$log" >&2
    say "building $tag failed"
    exit 1
  fi
  rm -f "$log"
  say "built $tag (stand-in)"
}

standin postgres:15-bookworm "$here/postgres.Dockerfile" "$here" "$here/postgres-entrypoint.sh"
standin valkey/valkey:8-bookworm "$here/valkey.Dockerfile" "$here" "$here/valkey-entrypoint.sh"

BUN_VERSION=$(bun --version)
ctx=$(mktemp -d)
cp "$(readlink -f "$(command -v bun)")" "$ctx/bun"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
standin "oven/bun:$BUN_VERSION-slim" "$here/bun.Dockerfile" "$ctx" "$ctx/bun" "$ctx/ca-certificates.crt"
rm -rf "$ctx"
