#!/usr/bin/env bash
# Side-by-side benchmark on the lab topology (client pod on node1, server pod
# on node2), in one run:
#   direct   pod to pod, no mesh
#   ambit    the same pods with their namespace in the mesh (eBPF capture,
#            HBONE mutual TLS 1.3 between the node agents)
#   haproxy  a haproxy pair doing mutual TLS 1.3 between the same nodes
#            (client -> haproxy on node1 -> TLS -> haproxy on node2 -> server),
#            with two threads each, as the agents run two data-path workers
# Prints a markdown table and writes bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMBIT_LAB=bench
SECS=${SECS:-5}
RUNS=${RUNS:-3}
source bench/lib.sh
haproxy_pids=()
on_exit 'for p in "${haproxy_pids[@]}"; do kill "$p" 2>/dev/null; done'

bin/ambit lab down >/dev/null
bin/ambit lab up -f bench/mesh.yaml >/dev/null
server=$(q 's.pods.find(p=>p.name==="server").ip')
node1=$(q 's.nodes[0].ip'); node2=$(q 's.nodes[1].ip')
gw1=10.244.1.1

# --- haproxy mutual TLS 1.3 pair --------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
for side in client server; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$side" -keyout "$work/$side.key" -out "$work/$side.csr" 2>/dev/null
  openssl x509 -req -in "$work/$side.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 -out "$work/$side.crt" 2>/dev/null
  cat "$work/$side.crt" "$work/$side.key" > "$work/$side.pem"
done
common="global
  nbthread 2
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-server-options ssl-min-ver TLSv1.3
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s"
cat > "$work/node1.cfg" <<CFG
$common
listen iperf
  bind $gw1:18001
  server s $node2:18441 ssl crt $work/client.pem ca-file $work/ca.pem verify required verifyhost server
listen http
  bind $gw1:18002
  server s $node2:18442 ssl crt $work/client.pem ca-file $work/ca.pem verify required verifyhost server
CFG
cat > "$work/node2.cfg" <<CFG
$common
listen iperf
  bind $node2:18441 ssl crt $work/server.pem ca-file $work/ca.pem verify required
  server pod $server:5201
listen http
  bind $node2:18442 ssl crt $work/server.pem ca-file $work/ca.pem verify required
  server pod $server:8080
CFG
for n in 1 2; do
  ns "node$n" haproxy -f "$work/node$n.cfg" -D -p "$work/node$n.pid"
  haproxy_pids+=("$(cat "$work/node$n.pid")")
done

measure() {
  local name=$1 ip=$2 iport=$3 hport=$4 procs=$5
  local f="$work/$name"
  # Warm-up, not measured: JIT-compiled hot paths and a grown young generation in the
  # agents (haproxy has nothing to warm, so this only levels the field).
  inpod iperf3 -c "$ip" -p "$iport" -t 3 >/dev/null
  inpod wrk -t2 -c16 -d2s "http://$ip:$hport/" >/dev/null
  iperf "$ip" "$iport" 1 > "$f.iperf1"
  iperf "$ip" "$iport" 4 > "$f.iperf4"
  wrk_run "http://$ip:$hport/" 1 | parse_wrk > "$f.http1"
  local c0; c0=$(cpu_ticks $procs)
  wrk_run "http://$ip:$hport/" 16 | parse_wrk > "$f.http"
  local c1; c1=$(cpu_ticks $procs)
  echo "$(( c1 - c0 ))" > "$f.cputicks"
  wrk_run "http://$ip:$hport/" 8 -H 'Connection: close' | parse_wrk > "$f.conn"
  rss_kb $procs > "$f.rsskb"
}

label ""
measure direct "$server" 5201 8080 ""
measure haproxy "$gw1" 18001 18002 "${haproxy_pids[*]}"
label "$MESHED"
measure ambit "$server" 5201 8080 "$(agent_pids)"

node bench/render.mjs "$work" "$HZ" "$SECS" "$out/latest.json"
