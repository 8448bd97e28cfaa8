# Shared by the lab benchmarks (sourced, not run): lab queries and the
# iperf3/wrk measurements inside the client pod bench/client of the lab
# $AMBIT_LAB. The caller sets SECS (seconds per run) and RUNS (iperf3 runs,
# median reported).

# Every benchmark writes to bench/results, keeps scratch files in $work and
# removes its lab on exit, failed or not; `on_exit CMD` adds to that.
out=bench/results; mkdir -p "$out"
work=$(mktemp -d)
exit_hooks=()
on_exit() { exit_hooks+=("$1"); }
cleanup() {
  for h in "${exit_hooks[@]}"; do eval "$h" || true; done
  bin/ambit lab down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

st() { bin/ambit lab status --json; }
q() { st | node -e "const s=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log($1)"; }
ns() { nsenter --net="/run/netns/ambit-$AMBIT_LAB-$1" "${@:2}"; }
inpod() { bin/ambit lab exec bench/client -- "$@"; }
# label NAMESPACE_LABELS: re-applies namespace bench with these labels (YAML lines, or nothing), in $work.
label() {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n%s' "$1" > "$work/ns.yaml"
  bin/ambit lab apply -f "$work/ns.yaml" >/dev/null
  sleep 2
}
MESHED=$'  labels:\n    ambit.dev/dataplane-mode: ambient\n'
agent_pids() { q 's.components.filter(c=>c.kind==="node-agent").map(c=>c.pid).join(" ")'; }

cpu_ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
rss_kb() { local t=0; for p in "$@"; do t=$((t + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)

# iperf IP PORT STREAMS: the median of RUNS runs (a 2-vCPU VM shared by every process of
# the test is noisy: single runs of the same path vary by +-20%).
iperf() {
  for _ in $(seq "$RUNS"); do
    inpod iperf3 -c "$1" -p "$2" -t "$SECS" -P "$3" -J | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log((r.end.sum_received.bits_per_second/1e9).toFixed(2))'
  done | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}
# wrk_run URL CONNECTIONS [wrk args]: one thread per connection, at most two.
wrk_run() { inpod wrk -t"$(( $2 < 2 ? $2 : 2 ))" -c"$2" -d"${SECS}s" --latency "${@:3}" "$1" ; }
parse_wrk() {
  node -e '
    const t=require("fs").readFileSync(0,"utf8");
    const ms=(s)=>{const m=/([\d.]+)(us|ms|s)/.exec(s); return m? Number(m[1])*({us:0.001,ms:1,s:1000})[m[2]]:NaN};
    const p=(q)=>{const m=new RegExp("\\s"+q+"%\\s+(\\S+)").exec(t); return m?ms(m[1]):NaN};
    const rps=Number((/Requests\/sec:\s+([\d.]+)/.exec(t)||[])[1]);
    const total=Number((/(\d+) requests in/.exec(t)||[])[1]);
    const errs=/Socket errors|Non-2xx/.test(t);
    console.log(JSON.stringify({p50:p(50),p99:p(99),rps,total,errors:errs}));'
}
