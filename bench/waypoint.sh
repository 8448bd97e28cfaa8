#!/usr/bin/env bash
# Waypoint benchmark on the lab topology (client pod on node1, HTTP/1.1 server
# pod on node2), side by side in one run:
#   direct    pod to pod, no mesh
#   nginx     nginx on node1 as an L7 reverse proxy to the server (one worker,
#             upstream keep-alive), plain HTTP
#   waypoint  the namespace in the mesh and Service "api" bound to Waypoint
#             "wp": client -> node agent -> HBONE -> waypoint (HTTP/1.1 per
#             request) -> HBONE -> node agent -> server
# wrk with 16 keep-alive connections (rate, p50/p99) and with one (latency);
# proxy CPU per 1000 requests and RSS (the waypoint alone, and with both node
# agents). Then HTTP/2 with prior knowledge (h2load, 16 connections, one stream
# each at a time) to an h2c server: direct, nginx (h2c in, HTTP/1.1 upstream:
# nginx proxies no HTTP/2 upstream) and the waypoint (HTTP/2 both sides).
# Prints markdown tables and writes bench/results/waypoint-latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMBIT_LAB=benchwp
SECS=${SECS:-5}
source bench/lib.sh
nginx_pid=""
on_exit '[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null'

bin/ambit lab down >/dev/null
bin/ambit lab up -f bench/waypoint.yaml >/dev/null
server=$(q 's.pods.find(p=>p.name==="server").ip')
server2=$(q 's.pods.find(p=>p.name==="server2").ip')
vip=$(q 's.services.find(s=>s.name==="api").clusterIP')
vip2=$(q 's.services.find(s=>s.name==="api2").clusterIP')
gw1=10.244.1.1

cat > "$work/nginx.conf" <<CFG
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream api { server $server:8080; keepalive 64; }
  server {
    listen $gw1:18080;
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen $gw1:18081 http2;
    # nginx closes an HTTP/2 connection after 1000 requests by default, and h2load does not reconnect.
    keepalive_requests 10000000;
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CFG
ns node1 nginx -c "$work/nginx.conf"
nginx_pid=$(cat "$work/nginx.pid")
nginx_procs="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"

measure() {
  local name=$1 url=$2 procs=$3
  local f="$work/$name"
  inpod wrk -t2 -c16 -d2s "$url" >/dev/null # warm-up, not measured
  wrk_run "$url" 1 | parse_wrk > "$f.http1"
  local c0; c0=$(cpu_ticks $procs)
  wrk_run "$url" 16 | parse_wrk > "$f.http"
  local c1; c1=$(cpu_ticks $procs)
  echo "$(( c1 - c0 ))" > "$f.cputicks"
  rss_kb $procs > "$f.rsskb"
}

# h2load's per-request log (start us, status, duration us) -> the shape parse_wrk prints.
parse_h2load() {
  node -e '
    const [log, out] = process.argv.slice(1);
    const t = require("fs").readFileSync(0, "utf8");
    const d = require("fs").readFileSync(log, "utf8").trim().split("\n").map((l) => l.split("\t")).filter((c) => c.length === 3);
    const ms = d.map((c) => Number(c[2]) / 1000).sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))];
    const rps = Number((/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(t) || [])[1]);
    const errors = !/requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, 0 failed, 0 errored/.test(t);
    console.log(JSON.stringify({ p50: q(50), p99: q(99), rps, total: d.length, errors }));' "$1"
}
measure_h2() {
  local name=$1 url=$2 procs=$3
  local f="$work/$name"
  inpod h2load -c16 -m1 -D 2 "$url" >/dev/null # warm-up, not measured
  local c0; c0=$(cpu_ticks $procs)
  inpod h2load -c16 -m1 -D "$SECS" --log-file="$f.h2log" "$url" | parse_h2load "$f.h2log" > "$f.http"
  local c1; c1=$(cpu_ticks $procs)
  echo "$(( c1 - c0 ))" > "$f.cputicks"
  rss_kb $procs > "$f.rsskb"
}

label ""
measure direct "http://$server:8080/" ""
measure nginx "http://$gw1:18080/" "$nginx_procs"
measure_h2 h2-direct "http://$server2:8080/" ""
measure_h2 h2-nginx "http://$gw1:18081/" "$nginx_procs"
label "$MESHED"
bin/ambit lab kubectl label service api -n bench ambit.dev/use-waypoint=wp >/dev/null
bin/ambit lab kubectl label service api2 -n bench ambit.dev/use-waypoint=wp >/dev/null
sleep 2
waypoint_pid=$(q 's.components.find(c=>c.kind==="waypoint").pid')
measure waypoint "http://$vip/" "$waypoint_pid"
# The same run once more, counting the node agents' CPU and memory too.
measure waypoint-and-agents "http://$vip/" "$waypoint_pid $(agent_pids)"
measure_h2 h2-waypoint "http://$vip2/" "$waypoint_pid"

node -e '
  const fs = require("fs");
  const [dir, hz, out] = process.argv.slice(1);
  const read = (n, k) => JSON.parse(fs.readFileSync(`${dir}/${n}.${k}`, "utf8"));
  const num = (n, k) => Number(fs.readFileSync(`${dir}/${n}.${k}`, "utf8"));
  const row = (name) => {
    const many = read(name, "http");
    const one = name.startsWith("h2-") ? { p50: NaN, p99: NaN } : read(name, "http1");
    const ticks = name.endsWith("direct") ? NaN : num(name, "cputicks");
    return { name, rps: many.rps, p50: many.p50, p99: many.p99, p50one: one.p50, p99one: one.p99, cpuPer1000: ticks / Number(hz) / (many.total / 1000), rssMiB: name.endsWith("direct") ? NaN : num(name, "rsskb") / 1024, errors: many.errors || one.errors };
  };
  const rows = ["direct", "nginx", "waypoint", "waypoint-and-agents", "h2-direct", "h2-nginx", "h2-waypoint"].map(row);
  const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : "-");
  console.log("| path | req/s (16 conns) | p50 / p99 ms (16) | p50 / p99 ms (1 conn) | proxy CPU s per 1000 req | proxy RSS MiB |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.name} | ${f(r.rps, 0)} | ${f(r.p50, 3)} / ${f(r.p99, 3)} | ${f(r.p50one, 3)} / ${f(r.p99one, 3)} | ${f(r.cpuPer1000, 3)} | ${f(r.rssMiB, 0)} |`);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log(`\nwaypoint / nginx: HTTP/1.1 req/s ${f(by.waypoint.rps / by.nginx.rps)}x, p99 (16 conns) ${f(by.waypoint.p99 / by.nginx.p99)}x; HTTP/2 req/s ${f(by["h2-waypoint"].rps / by["h2-nginx"].rps)}x, p99 ${f(by["h2-waypoint"].p99 / by["h2-nginx"].p99)}x`);
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), secs: Number(process.env.SECS || 5), rows }, null, 2) + "\n");
' "$work" "$HZ" "$out/waypoint-latest.json"
