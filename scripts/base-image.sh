#!/usr/bin/env bash
# Builds the local base image for sandboxes and tests, since no registry can be reached: a tiny root
# filesystem with busybox, the bun binary, CA certificates and a non-root user `helmr` (uid 1000),
# imported with `docker import`. Cached by tag and by this script's own checksum: reruns are instant.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=$(bun --version)
TAG=${HELMR_BASE_IMAGE:-helmr-local/bun:$BUN_VERSION}
RECIPE=$(sha256sum "$0" | cut -c1-16)

current=$(docker image inspect --format '{{ index .Config.Labels "helmr.base.recipe" }}' "$TAG" 2>/dev/null || true)
if [ "$current" = "$RECIPE" ]; then
  echo "base-image: $TAG is up to date"
  exit 0
fi

if [ ! -x /bin/busybox ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  echo "base-image: installed busybox-static from Debian's packages"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,home/helmr,workspace,usr/local/bin,usr/bin,etc/ssl/certs,root}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -sf /bin/busybox "$root/usr/bin/env"

bun_bin=$(readlink -f "$(command -v bun)")
cp "$bun_bin" "$root/usr/local/bin/bun"
ln -sf bun "$root/usr/local/bin/bunx"
# The shared libraries bun links against, at the same paths.
for lib in $(ldd "$bun_bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
helmr:x:1000:1000:helmr:/home/helmr:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
helmr:x:1000:
nogroup:x:65534:
GROUP
chown -R 1000:1000 "$root/home/helmr" "$root/workspace"

tar -C "$root" -c . | docker import \
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
  --change "ENV HOME=/root" \
  --change "LABEL helmr.base.recipe=$RECIPE" \
  --change "LABEL helmr.base.bun=$BUN_VERSION" \
  --change 'CMD ["/bin/sh"]' \
  - "$TAG" >/dev/null
echo "base-image: built $TAG (bun $BUN_VERSION, busybox)"
