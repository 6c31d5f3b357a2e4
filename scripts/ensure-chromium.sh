#!/usr/bin/env bash
# Installs Debian's Chromium when /usr/bin/chromium is missing: the dashboard's browser tests drive
# it with playwright-core (never `playwright install`, which downloads a browser build of its own).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "chromium: /usr/bin/chromium is missing and installing it needs root"; exit 1; fi
echo "chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second helper, unattended upgrades) may hold the lock: wait for it.
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
