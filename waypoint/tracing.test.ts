import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import * as semconv from '@opentelemetry/semantic-conventions';
import { AmbitError } from '../lib/errors.js';
import { tracingConfig } from './config.js';
import { createTracing, type TraceOutcome, type Tracing, type TracingOptions } from './tracing.js';
import { ATTR, RESOURCE_ATTR } from './tracing-export.js';

const here = fileURLToPath(import.meta.url);
/** Compiled to dist/waypoint/; the fixture stays in the source tree. */
const PROTO = resolve(here, '../../../waypoint/testdata/otlp-trace.proto');

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const IDENTITY = { namespace: 'shop', name: 'shop-waypoint', podName: 'shop-waypoint-7d9f-x2x4q', nodeName: 'node-1' };
/** Spans wait for a flush: what arrives was sent by `shutdown` (or by a full batch). */
const FLUSH_ON_SHUTDOWN: TracingOptions = { scheduledDelayMs: 60_000, exportTimeoutMs: 2_000 };

const OUTCOME: TraceOutcome = {
  method: 'GET',
  target: '/reviews/1?page=2&sig=s3cr3t',
  protocol: 'h2',
  service: 'reviews.shop.svc.cluster.local',
  port: 9080,
  code: 503,
  flags: 'UF',
  source: { principal: 'cluster.local/ns/shop/sa/frontend', workload: 'frontend', namespace: 'shop', ip: '10.0.0.3' },
  destination: { principal: 'cluster.local/ns/shop/sa/reviews', workload: 'reviews-v2', namespace: 'shop' },
  route: { name: 'reviews', rule: 'v2-canary' },
  upstream: '10.0.1.7:9080',
  retries: 2,
  userAgent: 'curl/8.5.0',
};

type AttrValue = string | number | boolean;
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  startNs: bigint;
  endNs: bigint;
  status: { code: string };
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
}

interface DecodedKeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}
const attrs = (kvs: DecodedKeyValue[] | undefined): Record<string, AttrValue> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.boolValue ?? (kv.value?.intValue !== undefined ? Number(kv.value.intValue) : kv.value?.doubleValue) ?? '']));
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

/** A stand-in OTLP/HTTP collector on 127.0.0.1:0 that decodes what it gets. */
class Collector {
  readonly spans: ReceivedSpan[] = [];
  requests = 0;
  private readonly type = protobuf.loadSync(PROTO).lookupType('otlp.test.ExportTraceServiceRequest');
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      assert.equal(req.url, '/v1/traces');
      assert.equal(req.headers['content-type'], 'application/x-protobuf');
      this.decode(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  span(spanId: string): ReceivedSpan | undefined {
    return this.spans.find((s) => s.spanId === spanId);
  }

  private decode(body: Buffer): void {
    const msg = this.type.toObject(this.type.decode(body), { longs: String, enums: String }) as {
      resourceSpans?: Array<{ resource?: { attributes?: DecodedKeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
    };
    for (const rs of msg.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: hex(s.traceId as Uint8Array),
            spanId: hex(s.spanId as Uint8Array),
            parentSpanId: hex(s.parentSpanId as Uint8Array | undefined),
            name: s.name as string,
            kind: s.kind as string,
            startNs: BigInt(s.startTimeUnixNano as string),
            endNs: BigInt(s.endTimeUnixNano as string),
            status: { code: ((s.status as { code?: string } | undefined)?.code ?? 'STATUS_CODE_UNSET') as string },
            attributes: attrs(s.attributes as DecodedKeyValue[]),
            resource: attrs(rs.resource?.attributes),
          });
        }
      }
    }
  }
}

/** A port nothing listens on: bound, then closed. */
async function refusedEndpoint(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}/v1/traces`;
}

const parse = (traceparent: string) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(traceparent);
  assert.ok(m, `not a version-00 traceparent: ${traceparent}`);
  return { traceId: m[1]!, parentId: m[2]!, flags: m[3]! };
};

describe('propagation (export off)', () => {
  let tracing: Tracing;
  before(async () => {
    tracing = await createTracing({ endpoint: undefined, samplePercent: 100 }, IDENTITY);
  });

  it('continues the incoming trace: trace id kept, parent id replaced by this hop, flag and tracestate passed', () => {
    const t = tracing.begin({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
    const up = t.upstreamHeaders();
    const tp = parse(up.traceparent);
    assert.equal(tp.traceId, TRACE);
    assert.equal(tp.parentId, t.spanId);
    assert.notEqual(t.spanId, PARENT);
    assert.equal(tp.flags, '01');
    assert.equal(up.tracestate, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.equal(t.traceId, TRACE);
    assert.equal(t.sampled, true);
    assert.equal(tracing.exporting, false);
  });

  it('keeps an unsampled caller unsampled, and gives every request a span of its own', () => {
    const a = tracing.begin({ traceparent: `00-${TRACE}-${PARENT}-00` });
    const b = tracing.begin({ traceparent: `00-${TRACE}-${PARENT}-00` });
    assert.equal(parse(a.upstreamHeaders().traceparent).flags, '00');
    assert.notEqual(a.spanId, b.spanId);
    assert.equal('tracestate' in a.upstreamHeaders(), false);
  });

  it('starts a new, unsampled trace when none arrives (it records nothing), with no tracestate', () => {
    const t = tracing.begin({});
    const tp = parse(t.upstreamHeaders().traceparent);
    assert.match(tp.traceId, /^(?!0{32})[0-9a-f]{32}$/);
    assert.equal(tp.parentId, t.spanId);
    assert.equal(tp.flags, '00');
    assert.equal(t.upstreamHeaders().tracestate, undefined);
    assert.notEqual(tracing.begin({}).traceId, t.traceId);
  });

  it('restarts on an invalid traceparent and drops the tracestate that came with it', () => {
    const t = tracing.begin({ traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' });
    assert.notEqual(t.traceId, TRACE);
    assert.equal(t.upstreamHeaders().tracestate, undefined);
  });

  it('ends without a span, any number of times', () => {
    const t = tracing.begin({});
    t.end(OUTCOME);
    t.end(OUTCOME);
  });
});

describe('export over OTLP/HTTP', () => {
  const collector = new Collector();
  let endpoint: string;
  before(async () => {
    endpoint = await collector.start();
  });
  after(() => collector.close());

  it('exports one SERVER span per request: ids, name, semconv and ambit attributes, ERROR on a 5xx, times; shutdown flushes', async () => {
    const tracing = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    assert.equal(tracing.exporting, true);
    const arrival = Date.now() - 250;
    const t = tracing.begin({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' }, arrival);
    const up = t.upstreamHeaders();
    assert.deepEqual(parse(up.traceparent), { traceId: TRACE, parentId: t.spanId, flags: '01' });
    assert.equal(up.tracestate, 'congo=t61rcWkgMzE');
    t.end(OUTCOME);
    t.end({ ...OUTCOME, code: 200 }); // a second end changes nothing
    assert.equal(collector.span(t.spanId), undefined, 'nothing sent before the batch delay or a flush');
    await tracing.shutdown();

    const s = collector.span(t.spanId);
    assert.ok(s, 'the span arrived');
    assert.equal(s.traceId, TRACE);
    assert.equal(s.parentSpanId, PARENT);
    assert.equal(s.name, 'GET reviews.shop.svc.cluster.local');
    assert.equal(s.kind, 'SPAN_KIND_SERVER');
    assert.equal(s.status.code, 'STATUS_CODE_ERROR');
    assert.equal(s.startNs, BigInt(arrival) * 1_000_000n);
    assert.ok(s.endNs >= BigInt(arrival + 250) * 1_000_000n && s.endNs <= BigInt(Date.now()) * 1_000_000n, 'ends when end() was called');
    assert.deepEqual(s.attributes, {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'url.path': '/reviews/1',
      'url.query': 'page=2&sig=REDACTED',
      'server.address': 'reviews.shop.svc.cluster.local',
      'server.port': 9080,
      'client.address': '10.0.0.3',
      'network.protocol.version': '2',
      'http.response.status_code': 503,
      'error.type': '503',
      'user_agent.original': 'curl/8.5.0',
      'ambit.response_flags': 'UF',
      'ambit.source.principal': 'cluster.local/ns/shop/sa/frontend',
      'ambit.source.workload': 'frontend',
      'ambit.source.namespace': 'shop',
      'ambit.destination.principal': 'cluster.local/ns/shop/sa/reviews',
      'ambit.destination.workload': 'reviews-v2',
      'ambit.destination.namespace': 'shop',
      'ambit.route.name': 'reviews',
      'ambit.route.rule': 'v2-canary',
      'ambit.upstream.address': '10.0.1.7:9080',
      'ambit.upstream.retries': 2,
    });
    assert.deepEqual(
      { ...s.resource, 'telemetry.sdk.version': undefined },
      {
        'service.name': 'ambit-waypoint',
        'service.namespace': 'shop',
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': 'shop-waypoint-7d9f-x2x4q',
        'k8s.node.name': 'node-1',
        'ambit.waypoint.name': 'shop-waypoint',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': undefined,
      },
    );
  });

  it('leaves the status unset on a 2xx and 4xx, names unknown methods HTTP, and starts a root span for a new trace', async () => {
    const tracing = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    const ok = tracing.begin({});
    const denied = tracing.begin({});
    const odd = tracing.begin({});
    ok.end({ ...OUTCOME, code: 200, flags: '-', target: '/', route: undefined, retries: 0, protocol: 'http/1.1' });
    denied.end({ ...OUTCOME, code: 403, flags: 'RBAC' });
    odd.end({ ...OUTCOME, method: 'PROPFIND', code: 207, flags: '-' });
    await tracing.shutdown();
    const a = collector.span(ok.spanId);
    assert.ok(a);
    assert.equal(a.parentSpanId, '', 'a root span');
    assert.equal(a.traceId, ok.traceId);
    assert.equal(a.status.code, 'STATUS_CODE_UNSET');
    assert.equal(a.attributes['network.protocol.version'], '1.1');
    assert.equal(a.attributes['url.query'], undefined);
    assert.equal(a.attributes['error.type'], undefined);
    assert.equal(a.attributes['ambit.route.name'], undefined);
    assert.equal(collector.span(denied.spanId)?.status.code, 'STATUS_CODE_UNSET');
    const o = collector.span(odd.spanId);
    assert.equal(o?.name, 'HTTP reviews.shop.svc.cluster.local');
    assert.equal(o?.attributes['http.request.method'], '_OTHER');
    assert.equal(o?.attributes['http.request.method_original'], 'PROPFIND');
  });

  it('marks a request that failed without a 5xx as an error with its reason', async () => {
    const tracing = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    const t = tracing.begin({});
    t.end({ ...OUTCOME, code: 200, flags: 'UR', error: 'ECONNRESET' });
    await tracing.shutdown();
    const s = collector.span(t.spanId);
    assert.equal(s?.status.code, 'STATUS_CODE_ERROR');
    assert.equal(s?.attributes['error.type'], 'ECONNRESET');
  });

  it('samples as a parent-based sampler: the caller decides for its traces, the percent for new ones', async () => {
    const none = await createTracing({ endpoint, samplePercent: 0 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    const fresh = none.begin({});
    const callerSampled = none.begin({ traceparent: `00-${TRACE}-${PARENT}-01` });
    const all = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    const callerNot = all.begin({ traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'congo=1' });
    const freshAll = all.begin({});
    for (const t of [fresh, callerSampled, callerNot, freshAll]) t.end({ ...OUTCOME, code: 200 });
    await Promise.all([none.shutdown(), all.shutdown()]);

    assert.equal(parse(fresh.upstreamHeaders().traceparent).flags, '00');
    assert.equal(collector.span(fresh.spanId), undefined);
    assert.equal(parse(callerSampled.upstreamHeaders().traceparent).flags, '01');
    assert.ok(collector.span(callerSampled.spanId), 'a sampled caller is recorded at 0 %');
    const notUp = callerNot.upstreamHeaders();
    assert.deepEqual(parse(notUp.traceparent), { traceId: TRACE, parentId: callerNot.spanId, flags: '00' });
    assert.equal(notUp.tracestate, 'congo=1');
    assert.equal(collector.span(callerNot.spanId), undefined, 'an unsampled caller is not recorded at 100 %');
    assert.equal(parse(freshAll.upstreamHeaders().traceparent).flags, '01');
    assert.ok(collector.span(freshAll.spanId));
  });

  it('samples about the configured share of new traces', async () => {
    const half = await createTracing({ endpoint, samplePercent: 25 }, IDENTITY, FLUSH_ON_SHUTDOWN);
    let sampled = 0;
    for (let i = 0; i < 4000; i++) if (half.begin({}).sampled) sampled++;
    await half.shutdown();
    assert.ok(sampled > 800 && sampled < 1200, `${sampled} of 4000 sampled at 25 %`);
  });

  it('works in worker threads, each with its own provider (nothing global)', async () => {
    const module = new URL('./tracing.js', import.meta.url).href;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.module).then(async ({ createTracing }) => {
        const tracing = await createTracing({ endpoint: workerData.endpoint, samplePercent: 100 }, workerData.identity, { scheduledDelayMs: 60000 });
        const t = tracing.begin({ traceparent: workerData.traceparent });
        t.end(workerData.outcome);
        await tracing.shutdown();
        parentPort.postMessage({ spanId: t.spanId });
      });`;
    const run = (pod: string) =>
      new Promise<string>((res, rej) => {
        const w = new Worker(code, { eval: true, workerData: { module, endpoint, identity: { ...IDENTITY, podName: pod }, traceparent: `00-${TRACE}-${PARENT}-01`, outcome: OUTCOME } });
        w.once('message', (m: { spanId: string }) => res(m.spanId));
        w.once('error', rej);
        w.once('exit', (c) => (c === 0 ? undefined : rej(new Error(`worker exited ${c}`))));
      });
    const [a, b] = await Promise.all([run('pod-a'), run('pod-b')]);
    assert.equal(collector.span(a)?.resource['k8s.pod.name'], 'pod-a');
    assert.equal(collector.span(b)?.resource['k8s.pod.name'], 'pod-b');
    assert.equal(collector.span(a)?.parentSpanId, PARENT);
  });
});

describe('a collector that is down', () => {
  it('neither throws nor blocks requests, keeps at most the queue limit, says so in the log, and shuts down promptly', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: Array<Record<string, unknown>> = [];
    const tracing = await createTracing({ endpoint: await refusedEndpoint(), samplePercent: 100 }, IDENTITY, {
      maxQueueSize: 64,
      maxExportBatchSize: 16,
      scheduledDelayMs: 5,
      exportTimeoutMs: 300,
      log: { warn: (o: object) => void warnings.push(o as Record<string, unknown>) },
    });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const t = tracing.begin({ traceparent: `00-${TRACE}-${PARENT}-01` });
      t.upstreamHeaders();
      t.end(OUTCOME);
      // Let exports start and fail meanwhile, as they would between requests.
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const perRequestUs = Number(process.hrtime.bigint() - started) / 1000 / n;
    gc();
    const grewMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
    // Unbounded, 20,000 ended spans with 22 attributes would hold tens of MiB.
    assert.ok(grewMb < 8, `the heap grew ${grewMb.toFixed(1)} MiB over ${n} spans`);
    assert.ok(perRequestUs < 500, `${perRequestUs.toFixed(1)} µs per request`);
    const t0 = Date.now();
    await tracing.shutdown();
    assert.ok(Date.now() - t0 < 3_000, `shutdown took ${Date.now() - t0} ms`);
    assert.ok(
      warnings.some((w) => w.code === 'AMBIT_ERR_TRACING_EXPORT'),
      `warned: ${JSON.stringify(warnings)}`,
    );
    assert.ok(warnings.length <= 2, 'rate-limited');
  });

  it('that accepts and never answers holds shutdown no longer than the export timeout', async () => {
    const blackHole = http.createServer(() => {});
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}/v1/traces`;
    const warnings: object[] = [];
    const tracing = await createTracing({ endpoint, samplePercent: 100 }, IDENTITY, { scheduledDelayMs: 60_000, exportTimeoutMs: 300, log: { warn: (o: object) => void warnings.push(o) } });
    for (let i = 0; i < 100; i++) tracing.begin({}).end(OUTCOME);
    const t0 = Date.now();
    await tracing.shutdown();
    const took = Date.now() - t0;
    blackHole.closeAllConnections();
    await new Promise((r) => blackHole.close(r));
    assert.ok(took >= 250 && took < 2_000, `shutdown took ${took} ms`);
    // The failed export, and the spans that shutdown could not send.
    assert.equal(warnings.length, 2);
  });
});

describe('config', () => {
  it('is off by default, samples 100 %', () => {
    assert.deepEqual(tracingConfig({}), { endpoint: undefined, samplePercent: 100 });
    assert.deepEqual(tracingConfig({ AMBIT_TRACING_ENDPOINT: '' }), { endpoint: undefined, samplePercent: 100 });
  });

  it('takes an OTLP/HTTP URL and a percent', () => {
    assert.deepEqual(tracingConfig({ AMBIT_TRACING_ENDPOINT: 'http://collector.observability:4318/v1/traces', AMBIT_TRACING_SAMPLE_PERCENT: '12.5' }), {
      endpoint: 'http://collector.observability:4318/v1/traces',
      samplePercent: 12.5,
    });
    assert.equal(tracingConfig({ AMBIT_TRACING_SAMPLE_PERCENT: '0' }).samplePercent, 0);
  });

  for (const [what, env, says] of [
    ['not a URL', { AMBIT_TRACING_ENDPOINT: 'collector:4318' }, /AMBIT_TRACING_ENDPOINT must be an http/],
    ['a URL without a host', { AMBIT_TRACING_ENDPOINT: 'http://' }, /AMBIT_TRACING_ENDPOINT must be an http/],
    ['a gRPC-style address', { AMBIT_TRACING_ENDPOINT: 'grpc://collector:4317' }, /AMBIT_TRACING_ENDPOINT must be an http/],
    ['a URL without the traces path', { AMBIT_TRACING_ENDPOINT: 'http://collector:4318' }, /needs the path .* http:\/\/collector:4318\/v1\/traces/],
    ['a percent that is not a number', { AMBIT_TRACING_SAMPLE_PERCENT: 'half' }, /AMBIT_TRACING_SAMPLE_PERCENT must be a number 0..100/],
    ['a percent over 100', { AMBIT_TRACING_SAMPLE_PERCENT: '101' }, /AMBIT_TRACING_SAMPLE_PERCENT/],
    ['a negative percent', { AMBIT_TRACING_SAMPLE_PERCENT: '-1' }, /AMBIT_TRACING_SAMPLE_PERCENT/],
    ['a fraction', { AMBIT_TRACING_SAMPLE_PERCENT: '0.5%' }, /AMBIT_TRACING_SAMPLE_PERCENT/],
  ] as const) {
    it(`refuses ${what} at startup`, () => {
      assert.throws(
        () => tracingConfig(env),
        (e: unknown) => e instanceof AmbitError && e.code === 'AMBIT_ERR_CONFIG' && says.test(e.message),
      );
    });
  }
});

it('spells the attribute names as the OTel semantic conventions do', () => {
  assert.equal(ATTR.method, semconv.ATTR_HTTP_REQUEST_METHOD);
  assert.equal(ATTR.methodOriginal, semconv.ATTR_HTTP_REQUEST_METHOD_ORIGINAL);
  assert.equal(ATTR.status, semconv.ATTR_HTTP_RESPONSE_STATUS_CODE);
  assert.equal(ATTR.scheme, semconv.ATTR_URL_SCHEME);
  assert.equal(ATTR.path, semconv.ATTR_URL_PATH);
  assert.equal(ATTR.query, semconv.ATTR_URL_QUERY);
  assert.equal(ATTR.serverAddress, semconv.ATTR_SERVER_ADDRESS);
  assert.equal(ATTR.serverPort, semconv.ATTR_SERVER_PORT);
  assert.equal(ATTR.clientAddress, semconv.ATTR_CLIENT_ADDRESS);
  assert.equal(ATTR.protocolVersion, semconv.ATTR_NETWORK_PROTOCOL_VERSION);
  assert.equal(ATTR.errorType, semconv.ATTR_ERROR_TYPE);
  assert.equal(ATTR.userAgent, semconv.ATTR_USER_AGENT_ORIGINAL);
  assert.equal(RESOURCE_ATTR.serviceName, semconv.ATTR_SERVICE_NAME);
});

after(async () => {
  // Closed sockets give their handles back on the next turns of the loop.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  // Nothing of ours may keep the process alive: no sockets, servers or timers.
  const left = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout');
  assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
});
