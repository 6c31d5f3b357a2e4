#!/usr/bin/env bash
# The test command: installs what it needs (Bun, dependencies, services, the base image), then
# type-checks, lints and runs every test. Ends with one line `N passed, N failed`; exits non-zero
# when anything failed. The type-check and the lint count as one check each in that line.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-bun.sh || exit 1
bash scripts/ensure-deno.sh || exit 1
bash scripts/ensure-chromium.sh || exit 1
bun install --frozen-lockfile >/dev/null || { echo "bun install failed"; exit 1; }
bash scripts/services.sh || exit 1
bash scripts/base-image.sh || exit 1

passed=0
failed=0
check() { # check <name> <command...>
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "check $name: ok"
  else failed=$((failed + 1)); echo "check $name: FAILED"; fi
}
check typecheck bunx tsc --noEmit -p tsconfig.json
# The fetch-only client must compile with DOM/fetch libs only: no Bun or Node types.
check client-typecheck bunx tsc --noEmit -p sdk/tsconfig.client.json
check lint bunx biome check .

log=$(mktemp)
bun test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pass=$(grep -aE '^ *[0-9]+ pass$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
fail=$(grep -aE '^ *[0-9]+ fail$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
skip=$(grep -aE '^ *[0-9]+ skip$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
errors=$(grep -aE '^ *[0-9]+ errors?$' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
passed=$((passed + pass))
failed=$((failed + fail + errors))
# A runner that died without counting a failure is still a failure.
if [ "$status" != 0 ] && [ "$fail" = 0 ] && [ "$errors" = 0 ]; then failed=$((failed + 1)); fi

if [ "$skip" != 0 ]; then echo "$passed passed, $failed failed, $skip skipped"
else echo "$passed passed, $failed failed"; fi
[ "$failed" = 0 ]
