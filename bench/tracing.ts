/**
 * What waypoint tracing costs per request, in one thread (`node dist/bench/tracing.js`):
 * `begin` + `upstreamHeaders` + `end`, with export off (the default) and on.
 * With export on and sampled, the span's serialization and the POST happen
 * later, in the same thread: "with export" counts them too, from the first
 * begin to the end of the flush, against a local collector that discards.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTracing, type TraceOutcome, type Tracing } from '../waypoint/tracing.js';

const N = Number(process.env.N ?? 200_000);
const IDENTITY = { namespace: 'shop', name: 'shop-waypoint', podName: 'shop-waypoint-0' };
const INCOMING = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'congo=t61rcWkgMzE' };
const OUTCOME: TraceOutcome = {
  method: 'GET',
  target: '/reviews/1?page=2',
  protocol: 'http/1.1',
  service: 'reviews.shop.svc.cluster.local',
  port: 9080,
  code: 200,
  flags: '-',
  source: { principal: 'cluster.local/ns/shop/sa/frontend', workload: 'frontend', namespace: 'shop', ip: '10.0.0.3' },
  destination: { principal: 'cluster.local/ns/shop/sa/reviews', workload: 'reviews-v1', namespace: 'shop' },
  upstream: '10.0.1.7:9080',
  retries: 0,
};

/** ns per request over `n` requests, after an unmeasured warm-up. */
async function measure(tracing: Tracing, headers: Record<string, string>, n: number): Promise<number> {
  const once = () => {
    const t = tracing.begin(headers);
    t.upstreamHeaders();
    t.end(OUTCOME);
  };
  for (let i = 0; i < 20_000; i++) once();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    once();
    // Let queued exports run between requests, as the event loop would.
    if ((i & 1023) === 0) await new Promise((r) => setImmediate(r));
  }
  return Number(process.hrtime.bigint() - start) / n;
}

const sink = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;

const rows: Array<[string, number]> = [];
const off = await createTracing({ endpoint: undefined, samplePercent: 100 }, IDENTITY);
rows.push(['export off, no traceparent (new trace)', await measure(off, {}, N)]);
rows.push(['export off, traceparent + tracestate', await measure(off, INCOMING, N)]);

const unsampled = await createTracing({ endpoint, samplePercent: 0 }, IDENTITY);
rows.push(['export on, new trace not sampled (0 %)', await measure(unsampled, {}, N)]);
await unsampled.shutdown();

const sampled = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, { maxQueueSize: 1 << 20 });
const n = N / 4;
const start = process.hrtime.bigint();
const sync = await measure(sampled, INCOMING, n);
await sampled.shutdown();
rows.push(['export on, sampled: begin/end alone', sync]);
rows.push(['export on, sampled: with export (serialize + POST)', Number(process.hrtime.bigint() - start) / (n + 20_000)]);
sink.close();

for (const [what, ns] of rows) console.log(`${what.padEnd(52)} ${Math.round(ns).toString().padStart(6)} ns/request`);
