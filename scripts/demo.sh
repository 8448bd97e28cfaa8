#!/usr/bin/env bash
# The demo: sets up this machine, boots a two-node lab with examples/ and the mesh
# installed from its Helm chart (charts/ambit, rendered by real helm: the controller
# Deployment and agent DaemonSet run from it, under the chart's RBAC), and
# shows the secure mesh: two identities, a call that is mutual TLS on the
# wire, a call a policy denies, and where the metrics and logs are. Leaves the
# lab running; `bin/ambit lab down` removes it.
#
# It boots the default lab ("ambit"), so every command it prints works as
# printed in a fresh shell. With AMBIT_LAB set it boots that lab instead and
# the printed commands name it. AMBIT_SKIP_SETUP=1 skips installing and
# building (the test that runs this script has done both).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${AMBIT_SKIP_SETUP:-}" = 1 ] || scripts/setup.sh

lab=${AMBIT_LAB:-ambit}
export AMBIT_LAB=$lab
if [ "$lab" = ambit ]; then prefix=ambit-; as_lab=""; else prefix="ambit-$lab-"; as_lab="AMBIT_LAB=$lab "; fi
fabric="/run/netns/${prefix}fabric"
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# node's http, not fetch: fetch (undici 5 in Node 20) sometimes never settles when the server resets at once, and the call would print nothing.
call() { bin/ambit lab exec "$1" -- node -e 'require("http").get(process.argv[1], (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => process.stdout.write(b)); }).on("error", (e) => console.log("refused: " + (e.code ?? e.message)))' "$2"; }
status_json() { bin/ambit lab status --json; }
field() { node -e "const s=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log($1)"; }

if bin/ambit lab status >/dev/null 2>&1; then
  bold "Lab $lab is already up: the demo replaces it"
  bin/ambit lab down
fi

bold "Booting the lab (2 nodes) with the mesh from charts/ambit and examples/demo.yaml"
bin/ambit lab up --chart charts/ambit -f examples/demo.yaml

bold "demo/client (identity cluster.local/ns/demo/sa/client) calls http://web.demo/ four times"
for _ in 1 2 3 4; do call demo/client http://web.demo/; done
client_ip=$(status_json | field 's.pods.find(p=>p.namespace==="demo"&&p.name==="client").ip')
echo "-> answered by both replicas, through the node agents; client_seen_as is demo/client's own address ($client_ip): the mesh is transparent."

bold "On the wire: capture node1's link to the fabric during a call to the web pod on node2"
web2=$(status_json | field 's.pods.find(p=>p.name.startsWith("web-")&&p.node==="node2").ip')
cap=$(mktemp)
nsenter --net="/run/netns/${prefix}node1" timeout 4 tcpdump -i eth0 -n -A -l tcp > "$cap" 2>/dev/null &
sleep 1; call demo/client "http://$web2:8080/" >/dev/null; wait || true
echo "packets to the HBONE port 15008: $(grep -c '\.15008: ' "$cap" || true)   packets to the pod port 8080: $(grep -c '\.8080: ' "$cap" || true)"
echo "response body visible in the capture: $(grep -q served_by "$cap" && echo yes || echo 'no (encrypted: mutual TLS 1.3 between the node agents)')"
rm -f "$cap"

bold "What the node agent on node2 logged for it (reporter=destination)"
log2=$(status_json | field 's.components.find(c=>c.kind==="node-agent"&&c.node==="node2").log')
grep '"reporter":"destination"' "$log2" | grep 'sa/client' | tail -1

bold "legacy/client (outside the mesh) calls the same Service"
call legacy/client http://web.demo/
echo "-> admitted as plaintext through the agent's port 15006 (PeerAuthentication defaults to PERMISSIVE)."

bold "Policy: examples/allow-only-client.yaml lets only demo/client call web"
bin/ambit lab apply -f examples/allow-only-client.yaml
sleep 1
echo "demo/client:"; call demo/client http://web.demo/
echo "demo/other (identity cluster.local/ns/demo/sa/default):"; call demo/other http://web.demo/
echo "legacy/client (no identity):"; call legacy/client http://web.demo/

# The controller is a pod behind its Service; the Service's address is stable, and a node's
# namespace has the kube-proxy rules that reach it.
controller_ip=$(status_json | field 's.services.find(x=>x.namespace==="ambit-system"&&x.name==="ambit-controller").clusterIP')
# Every line below is a command that works as printed, from this folder, in a fresh shell.
bold "Where to look next"
cat <<TXT
  ${as_lab}bin/ambit lab status                                           # nodes, pods, services, mesh processes
  ${as_lab}bin/ambit lab exec demo/client -- sh                           # a shell in the client pod
  nsenter --net=$fabric curl -s 10.200.0.10:15020/metrics       # node1 agent metrics (ambit_tcp_*)
  nsenter --net=$fabric curl -s 10.200.0.10:15020/config_dump   # model, certificates, tunnels
  nsenter --net=/run/netns/${prefix}node1 curl -s $controller_ip:15014/debug/agents   # the controller's view of its agents
  ${as_lab}bin/ambit lab kubectl get authorizationpolicies -A             # the lab's API, with a real kubectl
  ${as_lab}bin/ambit lab restart node-agent node2                         # roll node2's agent: the new one first, no connection refused
  ${as_lab}bin/ambit lab down                                             # remove the lab
TXT
