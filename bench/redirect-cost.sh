#!/usr/bin/env bash
# Measures what the eBPF redirection adds per connection, on the same pods:
# a client pod on node1 opens N sequential connections to a server pod on
# node2 and times connect() and the first byte, once with its namespace out
# of the mesh and once in it. Also times `lab up` for 2 nodes and 6 pods.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMBIT_LAB=benchredir
N=${N:-1000}
bin/ambit lab down >/dev/null
start=$(date +%s%3N)
bin/ambit lab up -f bench/redirect-cost.yaml >/dev/null
echo "lab up (2 nodes, 6 pods): $(( $(date +%s%3N) - start )) ms"
server=$(bin/ambit lab status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(s.pods.find(p=>p.name==="server").ip)')
probe() { bin/ambit lab exec bench/client -- node bench/connect-probe.mjs "$server" 9000 "$N"; }
label() {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n%s' "$1" > /tmp/ambit-bench-ns.yaml
  bin/ambit lab apply -f /tmp/ambit-bench-ns.yaml >/dev/null
  sleep 1
}
label ""
echo "direct:     $(probe)"
label $'  labels:\n    ambit.dev/dataplane-mode: ambient\n'
echo "redirected: $(probe)"
bin/ambit lab down >/dev/null
