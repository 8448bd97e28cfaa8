// Renders the results bench/mesh.sh left in DIR as a markdown table with
// ratios, and writes them as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const [dir, hz, secs, jsonOut] = process.argv.slice(2);
const read = (name, what) => readFileSync(join(dir, `${name}.${what}`), 'utf8').trim();
const path = (name, proxied) => {
  const http = JSON.parse(read(name, 'http'));
  const cpuS = Number(read(name, 'cputicks')) / Number(hz);
  return {
    iperf1: Number(read(name, 'iperf1')),
    iperf4: Number(read(name, 'iperf4')),
    http,
    http1: JSON.parse(read(name, 'http1')),
    conn: JSON.parse(read(name, 'conn')),
    cpuPer1000: proxied ? cpuS / (http.total / 1000) : undefined,
    rssMiB: proxied ? Number(read(name, 'rsskb')) / 1024 : undefined,
  };
};
const d = path('direct', false);
const a = path('ambit', true);
const h = path('haproxy', true);
const f = (n, digits = 2) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-');
const rows = [
  ['direct (no mesh)', d],
  ['Ambit L4 (eBPF + HBONE mTLS)', a],
  ['haproxy mTLS 1.3 pair', h],
].map(
  ([n, r]) =>
    `| ${n} | ${f(r.iperf1)} | ${f(r.iperf4)} | ${f(r.http1.p50, 3)} | ${f(r.http1.p99, 3)} | ${f(r.http.p50, 3)} | ${f(r.http.p99, 3)} | ${f(r.http.rps, 0)} | ${f(r.conn.rps, 0)} | ${f(r.cpuPer1000, 3)} | ${f(r.rssMiB, 0)} |`,
);
const table = [
  '| path | iperf3 1 stream (Gbit/s) | iperf3 4 streams (Gbit/s) | HTTP p50, 1 conn (ms) | HTTP p99, 1 conn (ms) | HTTP p50, 16 conns (ms) | HTTP p99, 16 conns (ms) | HTTP req/s (keep-alive, 16 conns) | new connections/s | proxy CPU s per 1000 req | proxy RSS (MiB, both nodes) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `Ratios: Ambit/direct p50 latency ${f(a.http1.p50 / d.http1.p50)}x with 1 connection, ${f(a.http.p50 / d.http.p50)}x with 16 (saturated); req/s ${f(a.http.rps / d.http.rps)}x; ` +
    `haproxy/direct p50 ${f(h.http1.p50 / d.http1.p50)}x (1 conn), ${f(h.http.p50 / d.http.p50)}x (16); ` +
    `Ambit/haproxy throughput ${f(a.iperf1 / h.iperf1)}x (1 stream), ${f(a.iperf4 / h.iperf4)}x (4 streams); ` +
    `Ambit/haproxy new connections/s ${f(a.conn.rps / h.conn.rps)}x, CPU per request ${f(a.cpuPer1000 / h.cpuPer1000)}x.`,
];
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
writeFileSync(jsonOut, JSON.stringify({ machine, date: new Date().toISOString(), secondsPerRun: Number(secs), direct: d, ambit: a, haproxy: h }, null, 2) + '\n');
console.log(`machine: ${machine}\ndate: ${new Date().toISOString()}\n\n${table.join('\n')}`);
