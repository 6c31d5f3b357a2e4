#!/usr/bin/env bash
# scripts/up.sh, step "deploy examples": deploys examples/ with the `examples` project's dev key
# (from the keys file prepare.ts keeps) and promotes it; prints that key on stdout for the next
# step. Only the examples project is touched: users' projects have keys of their own.
#   HELMR_API_URL=… bash scripts/up/deploy-examples.sh .helmr/keys.json
set -euo pipefail
cd "$(dirname "$0")/../.."
keys=${1:?usage: deploy-examples.sh <keys.json>}
key=$(bun -e "const k = JSON.parse(await Bun.file(process.argv[1]).text())['examples:dev']; if (!k) process.exit(1); console.log(k)" "$keys") \
  || { echo "up: no examples:dev key in $keys (run scripts/up/prepare.ts)" >&2; exit 1; }
deployment=$(HELMR_API_KEY=$key bun sdk/src/cli/main.ts deploy --env dev --dir examples --promote)
echo "up: deployed examples/ to the examples project's dev environment: $deployment" >&2
echo "$key"
