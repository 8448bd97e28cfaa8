#!/usr/bin/env bash
# The node agents' memory on the lab topology (bench/mesh.yaml, namespace in the
# mesh): RSS of each agent idle; while carrying load (iperf3 and wrk from the
# client on node1 to the server on node2); while 5,000 connections are held open
# through them; and 10, 30 and 60 s after those closed. With each, the heap of
# the agent's threads as its /config_dump reports them.
# Prints a table and writes bench/results/memory-latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMBIT_LAB=benchmem
SECS=${SECS:-10}
HOLD=${HOLD:-5000}
source bench/lib.sh

bin/ambit lab down >/dev/null
bin/ambit lab up -f bench/mesh.yaml >/dev/null
label "$MESHED"
server=$(q 's.pods.find(p=>p.name==="server").ip')
admins=$(q 's.components.filter(c=>c.kind==="node-agent").map(c=>c.node+"="+c.admin).join(" ")')
pids() { agent_pids; }
sample() { # PHASE: one JSON line per agent
  for pair in $admins; do
    local node=${pair%%=*} admin=${pair#*=}
    ns fabric node -e "fetch('http://$admin/config_dump').then(r=>r.json()).then(d=>console.log(JSON.stringify({phase:'$1',node:'$node',rss:d.memoryMiB.rss,mainHeap:d.memoryMiB.heapUsed,workerHeaps:d.dataPath.workers.map(w=>w.heap.used)})))"
  done
}
{
  sleep 10; sample idle
  inpod iperf3 -c "$server" -p 5201 -t "$SECS" -P 4 >/dev/null &
  sleep $((SECS / 2)); sample "iperf3 4 streams"; wait
  inpod wrk -t2 -c16 -d"${SECS}s" "http://$server:8080/" >/dev/null &
  sleep $((SECS / 2)); sample "wrk 16 connections"; wait
  inpod sh -c "ulimit -n \$(ulimit -Hn); exec node $(pwd)/bench/hold.mjs $server 8080 $HOLD 10" > "$work/hold.json" &
  sleep 8; sample "$HOLD connections open"; wait
  sleep 10; sample "10 s after they closed"
  sleep 20; sample "30 s after"
  sleep 30; sample "60 s after"
} > "$work/samples.jsonl"
node -e '
  const fs = require("fs");
  const [samples, hold, outFile] = process.argv.slice(1);
  const rows = fs.readFileSync(samples, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const held = JSON.parse(fs.readFileSync(hold, "utf8"));
  const result = { date: new Date().toISOString(), machine: `${require("os").cpus().length} vCPU, ${Math.round(require("os").totalmem() / 2 ** 30)} GiB, node ${process.version}`, held, samples: rows };
  fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + "\n");
  console.log(`Agent memory, ${result.date}, ${result.machine}; ${held.opened} connections held (${held.failed} failed)\n`);
  console.log("| phase | node1 agent RSS (MiB) | node2 agent RSS (MiB) | heaps node1 (main + workers) | heaps node2 |");
  console.log("|---|---|---|---|---|");
  const phases = [...new Set(rows.map((r) => r.phase))];
  for (const p of phases) {
    const at = (n) => rows.find((r) => r.phase === p && r.node === n);
    const h = (r) => (r ? `${r.mainHeap} + ${r.workerHeaps.join(" + ")}` : "-");
    console.log(`| ${p} | ${at("node1")?.rss ?? "-"} | ${at("node2")?.rss ?? "-"} | ${h(at("node1"))} | ${h(at("node2"))} |`);
  }' "$work/samples.jsonl" "$work/hold.json" "$out/memory-latest.json"
