#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry (the `deno` package ships the binary) when it is
# missing or another version. The API must boot on Deno; api/deno.test.ts proves it.
set -euo pipefail
DENO_VERSION=2.9.6
if command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | head -n 1 | grep -q "^deno $DENO_VERSION "; then
  exit 0
fi
echo "deno: installing deno@$DENO_VERSION from the npm registry"
npm install -g --silent "deno@$DENO_VERSION" >/dev/null 2>&1 || npm install -g "deno@$DENO_VERSION"
deno --version >/dev/null
