#!/usr/bin/env bash
# Runs every test: type-check (strict), build (TypeScript and eBPF), unit and
# in-process tests, then the end-to-end suite (needs root: real eBPF, network
# namespaces, cgroups). The end-to-end tests fail, never skip, without root.
set -euo pipefail
cd "$(dirname "$0")/.."

npx tsc -p tsconfig.json --noEmit
npm run -s build

mapfile -t unit < <(find dist -name '*.test.js' -not -path 'dist/test/e2e/*' | sort)
mapfile -t e2e < <(find dist/test/e2e -name '*.test.js' | sort)
# One file at a time for the end-to-end tier: each boots its own lab and the
# machine has two cores.
node --test --test-concurrency=2 "${unit[@]}"
node --test --test-concurrency=1 "${e2e[@]}"
