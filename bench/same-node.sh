#!/usr/bin/env bash
# Same-node benchmark: client and server pods on node1, three paths:
#   direct     pod to pod, the namespace out of the mesh
#   fastpath   in the mesh; the agent joins its two sockets in the kernel (the default)
#   userspace  in the mesh, agents started with AMBIT_FAST_PATH=false: the agent splices
# For each: iperf3 (1 and 4 streams, median of RUNS; and one stream paced at
# 2 Gbit/s), HTTP latency with wrk on 1 keep-alive connection and the rate on 16,
# node1's agent CPU during each, and how many bytes node1's fast path moved in
# the kernel or handed to the agent.
# Prints a markdown table and writes bench/results/same-node-latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMBIT_LAB=benchfast
SECS=${SECS:-5}
RUNS=${RUNS:-3}
source bench/lib.sh

up() { bin/ambit lab down >/dev/null; bin/ambit lab up -f bench/same-node.yaml >/dev/null; }
agent1() { q 's.components.find(c=>c.kind==="node-agent"&&c.node==="node1").pid'; }
# Bytes node1's fast path moved in the kernel and handed up to the agent, as "redirected passed".
fast_bytes() {
  local admin; admin=$(q 's.components.find(c=>c.kind==="node-agent"&&c.node==="node1").admin')
  ns fabric node -e "fetch('http://$admin/config_dump').then(r=>r.json()).then(d=>{const k=d.fastPath.kernel; console.log(k ? k.redirectedBytes+' '+k.passedBytes : '0 0')})"
}

# measure NAME: one path, its figures in $work/NAME.json.
measure() {
  local name=$1 server pid
  server=$(q 's.pods.find(p=>p.name==="server").ip')
  pid=$(agent1)
  inpod iperf3 -c "$server" -p 5201 -t 3 >/dev/null # warm-up, not measured
  inpod wrk -t2 -c16 -d2s "http://$server:8080/" >/dev/null
  local c0 b0 c1 b1 c2 c3 c4 b4 c5 b5 iperf1 iperf4 http1 http16
  c0=$(cpu_ticks "$pid"); b0=$(fast_bytes)
  iperf1=$(iperf "$server" 5201 1)
  c1=$(cpu_ticks "$pid"); b1=$(fast_bytes)
  iperf4=$(iperf "$server" 5201 4)
  c4=$(cpu_ticks "$pid"); b4=$(fast_bytes)
  inpod iperf3 -c "$server" -p 5201 -t "$SECS" -b 2G >/dev/null
  c5=$(cpu_ticks "$pid"); b5=$(fast_bytes)
  http1=$(wrk_run "http://$server:8080/" 1 | parse_wrk)
  c2=$(cpu_ticks "$pid")
  http16=$(wrk_run "http://$server:8080/" 16 | parse_wrk)
  c3=$(cpu_ticks "$pid")
  cat > "$work/$name.json" <<JSON
{"iperf1": $iperf1, "iperf4": $iperf4, "http1": $http1, "http16": $http16,
 "agentCpuIperf1": $(( c1 - c0 )), "agentCpuPaced": $(( c5 - c4 )), "agentCpuHttp16": $(( c3 - c2 )),
 "bytesIperf1": [$(echo "$b0" | tr ' ' ','), $(echo "$b1" | tr ' ' ',')],
 "bytesPaced": [$(echo "$b4" | tr ' ' ','), $(echo "$b5" | tr ' ' ',')]}
JSON
}

up
label ""
measure direct
label "$MESHED"
measure fastpath
AMBIT_FAST_PATH=false up
label "$MESHED"
measure userspace

node - "$work" "$HZ" "$SECS" "$RUNS" "$out/same-node-latest.json" <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const [dir, hz, secs, runs, jsonOut] = process.argv.slice(2);
const r = Object.fromEntries(['direct', 'fastpath', 'userspace'].map((n) => [n, JSON.parse(readFileSync(`${dir}/${n}.json`, 'utf8'))]));
const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const cpu = (ticks) => ticks / Number(hz);
const rows = Object.entries(r).map(([n, x]) => {
  const share = ([r0, p0, r1, p1]) => (n === 'fastpath' ? `${f((100 * (r1 - r0)) / (r1 - r0 + p1 - p0), 0)} %` : '-');
  const cores = (ticks, seconds) => (n === 'direct' ? '-' : f(cpu(ticks) / seconds));
  return `| ${n} | ${f(x.iperf1)} | ${f(x.iperf4)} | ${cores(x.agentCpuIperf1, Number(runs) * Number(secs))} | ${share(x.bytesIperf1)} | ${cores(x.agentCpuPaced, Number(secs))} | ${share(x.bytesPaced)} | ${f(x.http1.p50, 3)} | ${f(x.http1.p99, 3)} | ${f(x.http16.rps, 0)} | ${n === 'direct' ? '-' : f((cpu(x.agentCpuHttp16) / x.http16.total) * 1000, 3)} |`;
});
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
writeFileSync(jsonOut, JSON.stringify({ machine, date: new Date().toISOString(), secondsPerRun: Number(secs), runs: Number(runs), ...r }, null, 2) + '\n');
console.log(`machine: ${machine}\ndate: ${new Date().toISOString()}\n
| path | iperf3 1 stream (Gbit/s) | iperf3 4 streams (Gbit/s) | agent CPU, iperf3 1 stream (cores) | of those bytes, moved by the kernel | agent CPU, iperf3 paced at 2 Gbit/s (cores) | of those bytes, moved by the kernel | HTTP p50, 1 conn (ms) | HTTP p99, 1 conn (ms) | HTTP req/s (16 conns) | agent CPU s per 1000 req |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}`);
JS
