#!/usr/bin/env bash
# Installs what Ambit needs on a Debian 12 machine and builds it. Idempotent:
# apt and npm run only when something is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEED=(
  [clang]=clang [llc]=llvm [bpftool]=bpftool [ip]=iproute2 [nft]=nftables
  [nsenter]=util-linux [iperf3]=iperf3 [wrk]=wrk [haproxy]=haproxy [tcpdump]=tcpdump
)
missing=()
for cmd in "${!NEED[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}"); done
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
ls /usr/lib/*/libbpf.so.1 >/dev/null 2>&1 || missing+=(libbpf1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run -s build
