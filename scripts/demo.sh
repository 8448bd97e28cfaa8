#!/usr/bin/env bash
# The demo: sets up this machine, boots a two-node lab with examples/, sends
# traffic from a pod in the mesh and from one outside it, and shows what the
# mesh did. Leaves the lab running; `bin/ambit lab down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export AMBIT_LAB=${AMBIT_LAB:-demo}
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

bold "Booting the lab (2 nodes) with examples/demo.yaml"
bin/ambit lab up -f examples/demo.yaml

call='fetch("http://web.demo/hello").then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(String(e.cause ?? e)); process.exit(1); })'

bold "demo/client (namespace demo is in the mesh) calls http://web.demo/ three times"
for _ in 1 2 3; do bin/ambit lab exec demo/client -- node -e "$call"; done
echo "-> client_seen_as is a node address: each connection was redirected by eBPF into the node agent, which forwarded it."

bold "legacy/client (namespace legacy is not in the mesh) makes the same call"
bin/ambit lab exec legacy/client -- node -e "$call"
echo "-> client_seen_as is the pod's own address: the lab's kube-proxy served the ClusterIP, the agent never saw it."

bold "What the node agent on node1 logged (one access-log line per redirected connection)"
log=$(bin/ambit lab status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(s.components.find(c=>c.node==="node1").log)')
grep '"node-agent.access"' "$log" | tail -3 || echo "(no connections from node1 pods yet)"

bold "Where to look next"
cat <<TXT
  bin/ambit lab status                         nodes, pods, services, mesh processes
  bin/ambit lab logs demo/client               a pod's output
  bin/ambit lab exec demo/client -- sh         a shell inside a pod
  nsenter --net=/run/netns/ambit-${AMBIT_LAB}-fabric curl -s 10.200.0.10:15020/metrics   the node1 agent's metrics
  nsenter --net=/run/netns/ambit-${AMBIT_LAB}-fabric curl -s 10.200.0.10:15020/config_dump
  bin/ambit lab down                           remove the lab
TXT
