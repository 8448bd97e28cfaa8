import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentMetrics, type TcpLabels } from '../../node-agent/admin/metrics.js';
import { RequestMetrics, type RequestLabels } from '../../waypoint/metrics.js';
import { buildGraph, GRAPH_METRICS, serviceNode } from './graph.js';
import { parsePromText } from './prom-text.js';
import { histogramQuantile, MetricWindow } from './window.js';

const base: TcpLabels = {
  reporter: 'waypoint',
  source_workload: 'client',
  source_workload_namespace: 'shop',
  source_principal: 'cluster.local/ns/shop/sa/client',
  destination_workload: 'echo-v1',
  destination_workload_namespace: 'shop',
  destination_service: 'echo.shop.svc.cluster.local',
  destination_principal: 'cluster.local/ns/shop/sa/default',
  connection_security_policy: 'mutual_tls',
  response_flags: '-',
};
const req = (over: Partial<RequestLabels> = {}): RequestLabels => ({ ...base, response_code: '200', ...over });
const ctx = { isWaypointPrincipal: (p: string) => p.endsWith('/ns/shop/sa/wp') };

/** What a waypoint serves on /metrics, from the real metric classes, read back by the dashboard's parser. */
async function scrapeOf(record: (m: RequestMetrics, a: AgentMetrics) => void) {
  const agent = new AgentMetrics();
  const requests = new RequestMetrics(agent.registry);
  record(requests, agent);
  return parsePromText(await agent.registry.metrics(), (n) => GRAPH_METRICS.has(n));
}

describe('prom-text', () => {
  it('reads names, escaped label values, +Inf and skips comments and junk', () => {
    const s = parsePromText('# HELP x y\n# TYPE x counter\nx{a="1",b="q\\"uote\\\\",c="line\\nbreak"} 3\ny 4.5 1700000000\nz_bucket{le="+Inf"} 7\nbad{a=1} 2\n{} 3\n');
    assert.deepEqual(s, [
      { name: 'x', labels: { a: '1', b: 'q"uote\\', c: 'line\nbreak' }, value: 3 },
      { name: 'y', labels: {}, value: 4.5 },
      { name: 'z_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
  });
});

describe('rates over a window', () => {
  it('is the increase per second between the baseline and the last scrape, summed over targets', () => {
    const w = new MetricWindow(120_000);
    const s = (v: number) => [{ name: 'ambit_requests_total', labels: { a: '1' }, value: v }];
    w.record('t1', 0, s(100));
    w.record('t1', 5_000, s(150));
    w.record('t1', 10_000, s(200));
    w.record('t2', 2_000, s(0));
    w.record('t2', 12_000, s(30));
    const [r] = w.rates(10_000, 12_000);
    // The window starts at 2 s: t1's baseline is its scrape at 0 s (100 over 10 s), t2's the one at 2 s (30 over 10 s).
    assert.equal(r!.rate, 13);
  });

  it('counts a counter reset from zero and a series first seen inside the window from zero', () => {
    const w = new MetricWindow(120_000);
    w.record('t', 0, [{ name: 'c', labels: { x: 'old' }, value: 50 }]);
    w.record('t', 5_000, [{ name: 'c', labels: { x: 'old' }, value: 70 }]);
    // restarted proxy: the counter starts again; and a new series appears (a canary backend's first requests)
    w.record('t', 10_000, [
      { name: 'c', labels: { x: 'old' }, value: 5 },
      { name: 'c', labels: { x: 'new' }, value: 10 },
    ]);
    const byX = Object.fromEntries(w.rates(60_000, 10_000).map((r) => [r.labels['x'], r.rate]));
    assert.deepEqual(byX, { old: (20 + 5) / 10, new: 1 });
  });

  it('has no rate from a single scrape, and drops scrapes older than it keeps', () => {
    const w = new MetricWindow(10_000);
    w.record('t', 0, [{ name: 'c', labels: {}, value: 1 }]);
    assert.deepEqual(w.rates(10_000, 0), []);
    for (let t = 5_000; t <= 60_000; t += 5_000) w.record('t', t, [{ name: 'c', labels: {}, value: t / 1000 }]);
    // Only the last 10 s (and one baseline before) are kept: a 60 s window sees at most 15 s.
    const [r] = w.rates(60_000, 60_000);
    assert.equal(r!.rate, 1);
    w.forget('t');
    assert.deepEqual(w.rates(60_000, 60_000), []);
  });
});

describe('histogram quantile', () => {
  it('interpolates inside the bucket the rank falls in, as histogram_quantile does', () => {
    const b = new Map([
      [10, 50],
      [100, 90],
      [1000, 100],
      [Infinity, 100],
    ]);
    assert.equal(histogramQuantile(0.5, b), 10);
    assert.equal(histogramQuantile(0.7, b), 10 + 90 * (20 / 40));
    assert.equal(histogramQuantile(0.99, b), 100 + 900 * (9 / 10));
    assert.equal(histogramQuantile(0.25, b), 5, 'the lowest bucket starts at 0');
  });
  it('answers the highest finite bound when the rank is in +Inf, and nothing without observations', () => {
    assert.equal(histogramQuantile(0.99, new Map([[5, 1], [Infinity, 10]])), 5);
    assert.equal(histogramQuantile(0.99, new Map([[5, 0], [Infinity, 0]])), undefined);
    assert.equal(histogramQuantile(0.99, new Map()), undefined);
  });
});

describe('service graph from the real metric classes', () => {
  it('draws client -> Service -> backends with request rate, error rate, p99 and mTLS', async () => {
    const w = new MetricWindow(120_000);
    w.record('waypoint/shop/wp/wp-1', 0, await scrapeOf(() => undefined));
    w.record(
      'waypoint/shop/wp/wp-1',
      10_000,
      await scrapeOf((m) => {
        for (let i = 0; i < 90; i++) m.record(`v1-${i % 2}`, () => req(), i % 2 ? 3 : 7, 0, 10);
        for (let i = 0; i < 8; i++) m.record('v2-ok', () => req({ destination_workload: 'echo-v2' }), 40, 0, 10);
        for (let i = 0; i < 2; i++) m.record('v2-503', () => req({ destination_workload: 'echo-v2', response_code: '503' }), 2000, 0, 10);
      }),
    );
    const g = buildGraph(w.rates(60_000, 10_000), 60, ctx);
    assert.deepEqual(g.nodes.map((n) => n.id), ['service:shop/echo', 'workload:shop/client', 'workload:shop/echo-v1', 'workload:shop/echo-v2']);
    const e = Object.fromEntries(g.edges.map((x) => [x.id, x]));
    const front = e['workload:shop/client->service:shop/echo']!;
    assert.equal(front.protocol, 'http');
    assert.equal(front.requestsPerSecond, 10);
    assert.equal(front.errorRate, 0.02);
    assert.equal(front.security, 'mutual_tls');
    assert.equal(e['service:shop/echo->workload:shop/echo-v1']!.requestsPerSecond, 9);
    assert.equal(e['service:shop/echo->workload:shop/echo-v1']!.errorRate, 0);
    const v2 = e['service:shop/echo->workload:shop/echo-v2']!;
    assert.equal(v2.requestsPerSecond, 1);
    assert.equal(v2.errorRate, 0.2);
    assert.deepEqual(v2.responseCodes, { '200': 0.8, '503': 0.2 });
    // v1: 45 at 3 ms, 45 at 7 ms -> buckets 5 and 10; p99 rank 89.1 of 90 lies in (5, 10].
    assert.ok(Math.abs(e['service:shop/echo->workload:shop/echo-v1']!.p99Ms! - (5 + 5 * ((89.1 - 45) / 45))) < 1e-9);
    // v2: 8 at 40 ms (bucket 50), 2 at 2 s (bucket 2500): rank 9.9 in (1000, 2500].
    assert.ok(Math.abs(v2.p99Ms! - (1000 + 1500 * (1.9 / 2))) < 1e-9);
  });

  it('counts TCP where it lands, folds the waypoint hop into the Service, and shows plaintext', async () => {
    const w = new MetricWindow(120_000);
    const tcp = (l: Partial<TcpLabels>) => ({ ...base, reporter: 'destination', ...l });
    w.record('node/n1', 0, await scrapeOf(() => undefined));
    w.record(
      'node/n1',
      10_000,
      await scrapeOf((_m, a) => {
        a.opened.inc(tcp({ destination_service: 'db.shop.svc.cluster.local', destination_workload: 'db' }), 20);
        a.received.inc(tcp({ destination_service: 'db.shop.svc.cluster.local', destination_workload: 'db' }), 1000);
        a.sent.inc(tcp({ destination_service: 'db.shop.svc.cluster.local', destination_workload: 'db' }), 4000);
        a.opened.inc(tcp({ source_workload: 'legacy', source_principal: 'unknown', connection_security_policy: 'none', destination_service: 'db.shop.svc.cluster.local', destination_workload: 'db' }), 10);
        a.opened.inc(tcp({ source_workload: 'wp', source_principal: 'cluster.local/ns/shop/sa/wp' }), 30);
        // the waypoint dialled the endpoint: no Service in the label, no edge of its own
        a.opened.inc(tcp({ source_workload: 'wp', source_principal: 'cluster.local/ns/shop/sa/wp', destination_service: '10.0.1.5:8080' }), 30);
        // the source side of the same connections: not counted again
        a.opened.inc({ ...base, reporter: 'source' }, 99);
      }),
    );
    const g = buildGraph(w.rates(60_000, 10_000), 60, ctx);
    const e = Object.fromEntries(g.edges.map((x) => [x.id, x]));
    assert.deepEqual(Object.keys(e).sort(), [
      'service:shop/db->workload:shop/db',
      'service:shop/echo->workload:shop/echo-v1',
      'workload:shop/client->service:shop/db',
      'workload:shop/legacy->service:shop/db',
    ]);
    assert.equal(e['workload:shop/client->service:shop/db']!.connectionsPerSecond, 2);
    assert.equal(e['workload:shop/client->service:shop/db']!.bytesPerSecond, 500);
    assert.equal(e['workload:shop/client->service:shop/db']!.security, 'mutual_tls');
    assert.equal(e['workload:shop/legacy->service:shop/db']!.security, 'none');
    assert.equal(e['service:shop/db->workload:shop/db']!.security, 'mixed');
    assert.equal(e['service:shop/echo->workload:shop/echo-v1']!.connectionsPerSecond, 3, 'the waypoint hop is drawn from the Service');
    assert.equal(e['service:shop/echo->workload:shop/echo-v1']!.protocol, 'tcp');
  });

  it('names Services from their hostnames and keeps other destinations as they are', () => {
    assert.equal(serviceNode('echo.shop.svc.cluster.local').id, 'service:shop/echo');
    assert.equal(serviceNode('echo.shop.svc').id, 'service:shop/echo');
    assert.equal(serviceNode('10.0.0.1:80').id, 'service:10.0.0.1:80');
  });
});
