#!/usr/bin/env bash
# Installs the pinned Bun from the npm registry when it is missing or another version.
set -euo pipefail
BUN_VERSION=1.4.5
if command -v bun >/dev/null 2>&1 && [ "$(bun --version)" = "$BUN_VERSION" ]; then exit 0; fi
echo "bun: installing bun@$BUN_VERSION from the npm registry"
npm install -g --silent "bun@$BUN_VERSION" >/dev/null 2>&1 || npm install -g "bun@$BUN_VERSION"
bun --version >/dev/null
