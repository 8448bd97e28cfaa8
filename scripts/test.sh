#!/usr/bin/env bash
# Runs every test: type-check (strict), build (TypeScript and eBPF), unit and
# in-process tests, then the end-to-end suite (needs root: real eBPF, network
# namespaces, cgroups). The end-to-end tests fail, never skip, without root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh            # apt and npm dependencies, then the build
npx tsc -p tsconfig.json --noEmit

# One run, so one summary counts every test. Each end-to-end file boots its
# own uniquely named lab, so files may run side by side; two at a time suits
# the machine's two cores.
mapfile -t files < <(find dist -name '*.test.js' | sort)
node --test --test-concurrency=2 "${files[@]}"
