import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminGet, applyText, awaitCondition, eventually, fixture, LabHarness, requireRoot, type Condition } from './harness.js';

/** What fixtures/requests.mjs prints. */
interface Tally {
  statuses: Record<string, number>;
  headers: Record<string, number>;
  bodies: Record<string, unknown>;
  ms: number;
}

const HTTP_ROUTE = (name: string, spec: string, ns = 'l7t') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
const TRAFFIC_POLICY = (name: string, service: string, spec: string) => `apiVersion: ambit.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ${name}, namespace: l7t }
spec:
  targetRefs: [{ kind: Service, name: ${service} }]
${spec
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
const ECHO_PARENT = 'parentRefs: [{ group: "", kind: Service, name: echo, port: 80 }]';

/**
 * The waypoint's L7 half on real traffic in the lab: Gateway API routes
 * (matching, weights, redirects, rewrites, header filters, mirrors, timeouts,
 * consumer routes, GRPCRoute), TrafficPolicy resilience (retries, outlier
 * ejection, pool overflow, consistent hashing, faults, rate limits), gRPC
 * streaming with trailers and an upgraded connection, each request counted
 * and logged once.
 */
describe('waypoint L7', { timeout: 900_000 }, () => {
  // The controller hands this to the waypoint's Deployment; the receiver runs in the lab (fixture).
  const lab = new LabHarness({ env: { AMBIT_TRACING_ENDPOINT: 'http://collector.otel:4318/v1/traces' } });
  const client = 'l7t/client';
  /** Runs fixtures/requests.mjs in a pod. */
  const requests = async (url: string, opts: string[] = [], from = client): Promise<Tally> => {
    const r = await lab.ambit(['lab', 'exec', from, '--', 'node', fixture('requests.mjs'), url, ...opts], 180_000);
    try {
      return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Tally;
    } catch {
      throw new Error(`requests.mjs printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  };
  const waypoint = async () => (await lab.status()).components.find((c) => c.kind === 'waypoint');
  /** A route's condition for its first parent, as `kubectl get -o json` shows it. */
  const routeCondition = async (kind: string, name: string, type: string, check: (c: Condition) => boolean, ns = 'l7t'): Promise<Condition> => {
    let last: Condition | undefined;
    const ok = await eventually(async () => {
      const r = await lab.ambit(['lab', 'kubectl', 'get', kind, name, '-n', ns, '-o', 'json'], 30_000);
      const parents = r.code === 0 ? ((JSON.parse(r.stdout) as { status?: { parents?: { controllerName: string; conditions: Condition[] }[] } }).status?.parents ?? []) : [];
      last = parents.find((p) => p.controllerName === 'ambit.dev/waypoint-controller')?.conditions.find((c) => c.type === type);
      return last !== undefined && check(last);
    }, 60);
    assert.ok(ok, `${kind} ${name}: condition ${type} never as expected; last: ${JSON.stringify(last)}`);
    return last!;
  };
  /** Applies a route, waits until the controller accepted it (then the waypoint has it within a push), runs `check`, and deletes the route whatever happened. */
  const withRoute = async (yaml: string, check: () => Promise<void>, kind = 'httproutes') => {
    await applyText(lab, yaml);
    try {
      const name = /name: ([\w-]+), namespace/.exec(yaml)![1]!;
      const ns = /namespace: ([\w-]+) }/.exec(yaml)![1]!;
      await routeCondition(kind, name, 'Accepted', (c) => c.status === 'True', ns);
      await routeCondition(kind, name, 'ResolvedRefs', (c) => c.status === 'True', ns);
      await new Promise((r) => setTimeout(r, 500)); // the push to the waypoint follows the status by a moment
      await check();
    } finally {
      await applyText(lab, yaml, 'delete');
    }
  };
  /** Applies a TrafficPolicy, waits until a waypoint applies it, runs `check`, and deletes it whatever happened. */
  const withPolicy = async (yaml: string, check: () => Promise<void>) => {
    await applyText(lab, yaml);
    try {
      const name = /name: ([\w-]+), namespace/.exec(yaml)![1]!;
      await awaitCondition(lab, 'trafficpolicies.ambit.dev', 'l7t', name, 'WaypointAccepted', (c) => c.status === 'True');
      await new Promise((r) => setTimeout(r, 500));
      await check();
    } finally {
      await applyText(lab, yaml, 'delete');
    }
  };
  /** The log lines of a pod (the echo servers print one `seen` line per request). */
  const seenBy = async (pod: string): Promise<{ url: string; headers: Record<string, string> }[]> => {
    const r = await lab.ambit(['lab', 'logs', pod]);
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"seen"'))
      .map((l) => (JSON.parse(l) as { seen: { url: string; headers: Record<string, string> } }).seen);
  };

  before(async () => {
    requireRoot();
    const dir = mkdtempSync(join(tmpdir(), 'ambit-l7-'));
    const manifest = join(dir, 'waypoint-l7.yaml');
    writeFileSync(manifest, readFileSync(fixture('waypoint-l7.yaml'), 'utf8').replaceAll('__FIXTURES__', dirname(fixture('echo.mjs'))));
    await lab.must(['lab', 'up', '-f', manifest, '--nodes', '2']);
    await awaitCondition(lab, 'waypoints.ambit.dev', 'l7t', 'wp', 'Programmed', (c) => c.status === 'True');
    assert.ok(await eventually(async () => (await requests('http://echo.l7t/')).statuses['200'] === 1, 80), 'echo answers through the waypoint');
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('routes by path, header, query and method, and rewrites headers both ways (named rules, most specific first)', async () => {
    const yaml = HTTP_ROUTE(
      'match',
      `${ECHO_PARENT}
rules:
- name: canary
  matches: [{ headers: [{ name: x-canary, value: "yes" }] }, { queryParams: [{ name: v, value: "2" }] }, { method: DELETE }]
  backendRefs: [{ name: echo-v2, port: 80 }]
- name: exact
  matches: [{ path: { type: Exact, value: /exact } }]
  filters:
  - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-set, value: s }], add: [{ name: x-add, value: a }], remove: [x-drop] } }
  - { type: ResponseHeaderModifier, responseHeaderModifier: { add: [{ name: x-resp, value: r }] } }
  backendRefs:
  - name: echo-v1
    port: 80
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-backend, value: v1 }] } }]
- name: rest
  matches: [{ path: { type: PathPrefix, value: / } }]
  backendRefs: [{ name: echo-v1, port: 80 }]`,
    );
    await withRoute(yaml, async () => {
      assert.deepEqual((await requests('http://echo.l7t/any', ['--count', '6'])).headers, { 'echo-v1': 6 });
      assert.deepEqual((await requests('http://echo.l7t/any', ['--count', '4', '--set-header', 'x-canary:yes'])).headers, { 'echo-v2': 4 });
      assert.deepEqual((await requests('http://echo.l7t/any?v=2', ['--count', '2'])).headers, { 'echo-v2': 2 });
      assert.deepEqual((await requests('http://echo.l7t/any', ['--count', '2', '--method', 'DELETE'])).headers, { 'echo-v2': 2 });
      const exact = await requests('http://echo.l7t/exact', ['--set-header', 'x-drop:gone', '--set-header', 'x-add:mine', '--header', 'x-resp']);
      assert.deepEqual(exact.headers, { r: 1 }, 'the response header was added');
      const seen = (JSON.parse(exact.bodies['200'] as string) as { headers: Record<string, string> }).headers;
      assert.equal(seen['x-set'], 's');
      assert.equal(seen['x-add'], 'mine, a');
      assert.equal(seen['x-drop'], undefined);
      assert.equal(seen['x-backend'], 'v1', 'the backend filter applied');
      // The access log names the rule.
      const c = (await waypoint())!;
      assert.ok(await eventually(async () => readFileSync(c.log, 'utf8').includes('"route":"l7t/match/exact"')), 'the access log names the route and rule');
    });
  });

  it('splits by weight: 90/10 over 400 requests', async () => {
    await withRoute(HTTP_ROUTE('split', `${ECHO_PARENT}\nrules: [{ backendRefs: [{ name: echo-v1, port: 80, weight: 90 }, { name: echo-v2, port: 80, weight: 10 }] }]`), async () => {
      const t = await requests('http://echo.l7t/', ['--count', '400', '--concurrency', '8']);
      const v2 = t.headers['echo-v2'] ?? 0;
      assert.deepEqual(t.statuses, { '200': 400 });
      // Binomial(400, 0.1): mean 40, sd 6; 20..64 is beyond 3 sd either way.
      assert.ok(v2 >= 20 && v2 <= 64, `echo-v2 got ${v2} of 400`);
    });
  });

  it('redirects (every status, host, port, scheme, path) and rewrites path and host', async () => {
    const yaml = HTTP_ROUTE(
      'redirects',
      `${ECHO_PARENT}
rules:
- matches: [{ path: { type: PathPrefix, value: /r301 } }]
  filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 301, hostname: elsewhere } }]
- matches: [{ path: { type: PathPrefix, value: /r303 } }]
  filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 303, port: 8443 } }]
- matches: [{ path: { type: PathPrefix, value: /r307 } }]
  filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 307, scheme: https } }]
- matches: [{ path: { type: PathPrefix, value: /r308 } }]
  filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 308, path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } } }]
- matches: [{ path: { type: PathPrefix, value: /r302 } }]
  filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /full } } }]
- matches: [{ path: { type: PathPrefix, value: /old } }]
  filters: [{ type: URLRewrite, urlRewrite: { hostname: rewritten.example, path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }]
  backendRefs: [{ name: echo-v1, port: 80 }]`,
    );
    await withRoute(yaml, async () => {
      const location = async (path: string) => {
        const t = await requests(`http://echo.l7t${path}`);
        const [status] = Object.keys(t.statuses);
        return `${status} ${(t.bodies[status!] as { location?: string }).location}`;
      };
      assert.equal(await location('/r301/a?q=1'), '301 http://elsewhere/r301/a?q=1');
      assert.equal(await location('/r303/a'), '303 http://echo.l7t:8443/r303/a');
      assert.equal(await location('/r307/a'), '307 https://echo.l7t/r307/a');
      assert.equal(await location('/r308/a/b'), '308 http://echo.l7t/new/a/b');
      assert.equal(await location('/r302/a'), '302 http://echo.l7t/full');
      const rewritten = await requests('http://echo.l7t/old/x?k=v');
      const seen = JSON.parse(rewritten.bodies['200'] as string) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/v2/x?k=v');
      assert.equal(seen.headers.host, 'rewritten.example');
    });
  });

  it('mirrors requests to a shadow without touching the response, and times out a slow rule', async () => {
    const yaml = HTTP_ROUTE(
      'mirror',
      `${ECHO_PARENT}
rules:
- matches: [{ path: { type: PathPrefix, value: /delay } }]
  timeouts: { request: 500ms }
  backendRefs: [{ name: echo-v1, port: 80 }]
- filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: shadow, port: 80 } } }]
  backendRefs: [{ name: echo-v1, port: 80 }]`,
    );
    await withRoute(yaml, async () => {
      const path = `/mirrored-${Date.now()}`;
      const t = await requests(`http://echo.l7t${path}`, ['--count', '3']);
      assert.deepEqual([t.statuses, t.headers], [{ '200': 3 }, { 'echo-v1': 3 }], 'the answers come from the backend only');
      assert.ok(await eventually(async () => (await seenBy('l7t/shadow')).filter((s) => s.url === path).length === 3), 'the shadow saw each request');
      const slow = await requests('http://echo.l7t/delay/3000');
      assert.deepEqual(slow.statuses, { '504': 1 });
      assert.ok(slow.ms < 2500, `answered after ${slow.ms} ms`);
    });
  });

  it("a consumer route applies to its own namespace's clients only", async () => {
    const yaml = HTTP_ROUTE('consumer', `parentRefs: [{ group: "", kind: Service, name: echo, namespace: l7t, port: 80 }]\nrules: [{ backendRefs: [{ name: echo-v2, namespace: l7t, port: 80 }] }]`, 'l7c');
    await withRoute(yaml, async () => {
      assert.deepEqual((await requests('http://echo.l7t/', ['--count', '6'], 'l7c/consumer')).headers, { 'echo-v2': 6 }, 'the consumer namespace gets its route');
      const producer = await requests('http://echo.l7t/', ['--count', '10']);
      assert.ok((producer.headers['echo-v1'] ?? 0) > 0, `other clients do not (${JSON.stringify(producer.headers)})`);
    });
  });

  it('retries a flaky backend into 200s, and without the policy its 503s show', async () => {
    const before = await requests('http://flaky.l7t/', ['--count', '3']);
    assert.deepEqual(before.statuses, { '200': 1, '503': 2 }, 'the flaky backend alone');
    await withPolicy(TRAFFIC_POLICY('retry', 'flaky', 'retries: { attempts: 3, retryOn: [5xx] }'), async () => {
      const t = await requests('http://flaky.l7t/', ['--count', '6']);
      assert.deepEqual(t.statuses, { '200': 6 }, 'every request ends in 200 once retried');
    });
  });

  it('ejects an endpoint that keeps failing (outlier detection)', async () => {
    await withPolicy(TRAFFIC_POLICY('eject', 'pool', 'outlierDetection: { consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50 }'), async () => {
      // Each worker of the waypoint learns on its own, and the kernel picks the worker per
      // connection: 8 connections leave a worker without any once in 128 runs.
      await requests('http://pool.l7t/', ['--count', '40', '--concurrency', '8']);
      const t = await requests('http://pool.l7t/', ['--count', '20', '--concurrency', '4']);
      assert.deepEqual(t.statuses, { '200': 20 }, 'after the bad endpoint is ejected, every request reaches the good one');
      assert.deepEqual(t.headers, { good: 20 });
    });
  });

  it('answers overflow with 503 UO, a rate limit with 429, a delay fault late and an abort fault with its status', async () => {
    await withPolicy(TRAFFIC_POLICY('pool', 'echo-v1', 'connectionPool: { maxConnections: 1, maxPendingRequests: 1 }'), async () => {
      const t = await requests('http://echo-v1.l7t/delay/600', ['--count', '6', '--concurrency', '6']);
      assert.ok((t.statuses['503'] ?? 0) > 0 && (t.statuses['200'] ?? 0) >= 2, `requests beyond the pool get 503 (${JSON.stringify(t.statuses)})`);
    });
    await withPolicy(TRAFFIC_POLICY('limit', 'echo-v2', 'localRateLimit: { maxTokens: 5, tokensPerFill: 1, fillInterval: 10s }'), async () => {
      const t = await requests('http://echo-v2.l7t/', ['--count', '12']);
      assert.ok((t.statuses['429'] ?? 0) >= 5, `requests beyond the bucket get 429 (${JSON.stringify(t.statuses)})`);
    });
    await withPolicy(TRAFFIC_POLICY('delay', 'shadow', 'fault: { delay: { fixedDelay: 700ms, percentage: 100 } }'), async () => {
      const t = await requests('http://shadow.l7t/');
      assert.ok(t.ms >= 650, `a delayed request arrives late (${t.ms} ms)`);
    });
    await withPolicy(TRAFFIC_POLICY('abort', 'shadow', 'fault: { abort: { httpStatus: 418, percentage: 100 } }'), async () => {
      assert.deepEqual((await requests('http://shadow.l7t/')).statuses, { '418': 1 }, 'an aborted request gets the fault status');
    });
    const metrics = await adminGet(lab, (await waypoint())!.admin, '/metrics');
    assert.match(metrics, /ambit_requests_total\{[^}]*response_code="429"[^}]*response_flags="RL"[^}]*\} [1-9]/);
    assert.match(metrics, /ambit_requests_total\{[^}]*response_code="503"[^}]*response_flags="UO"[^}]*\} [1-9]/);
    assert.match(metrics, /ambit_requests_total\{[^}]*response_code="418"[^}]*response_flags="FI"[^}]*\} [1-9]/);
  });

  it('hashes a header to one endpoint (ConsistentHash)', async () => {
    await withPolicy(TRAFFIC_POLICY('hash', 'echo', 'loadBalancer: { type: ConsistentHash, consistentHash: { header: x-user } }'), async () => {
      const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
      const served = await Promise.all(users.map((u) => requests('http://echo.l7t/', ['--count', '8', '--set-header', `x-user:${u}`])));
      for (const [i, t] of served.entries()) assert.equal(Object.keys(t.headers).length, 1, `${users[i]} sticks to one endpoint (${JSON.stringify(t.headers)})`);
      assert.equal(new Set(served.map((t) => Object.keys(t.headers)[0])).size, 2, 'and the users spread over both');
    });
  });

  it('carries gRPC: a server stream with its trailers, GRPCRoute weights and header filters', async () => {
    const stream = await lab.ambit(['lab', 'exec', client, '--', 'node', fixture('grpc.mjs'), 'count', 'grpc.l7t:80', '5'], 60_000);
    const s = JSON.parse(stream.stdout.trim().split('\n').pop()!) as { count: number; spreadMs: number; status: Record<string, unknown> };
    assert.equal(s.count, 5);
    assert.ok(s.spreadMs >= 60, `the replies arrived as a stream (spread over ${s.spreadMs} ms)`);
    assert.deepEqual([s.status['code'], s.status['x-counted']], [0, '5'], 'status and trailing metadata arrived');
    const grpcRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc-split, namespace: l7t }
spec:
  parentRefs: [{ group: "", kind: Service, name: grpc, port: 80 }]
  rules:
  - matches: [{ method: { service: ambit.e2e.Echo, method: Say } }]
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-grpc-filter, value: on }] } }]
    backendRefs: [{ name: grpc-v1, port: 80, weight: 1 }, { name: grpc-v2, port: 80, weight: 3 }]
`;
    await withRoute(
      grpcRoute,
      async () => {
        const say = await lab.ambit(['lab', 'exec', client, '--', 'node', fixture('grpc.mjs'), 'say', 'grpc.l7t:80', '200'], 120_000);
        const r = JSON.parse(say.stdout.trim().split('\n').pop()!) as { pods: Record<string, number>; codes: Record<string, number>; metadata: Record<string, string> };
        assert.deepEqual(r.codes, { '0': 200 });
        const v2 = r.pods['grpc-2'] ?? 0;
        // Binomial(200, 0.75): mean 150, sd 6.1.
        assert.ok(v2 >= 130 && v2 <= 170, `grpc-v2 served ${v2} of 200`);
        assert.equal(r.metadata['x-grpc-filter'], 'on');
      },
      'grpcroutes',
    );
  });

  it('passes an upgraded connection through (WebSocket-style echo)', async () => {
    const script = `const s=require('net').connect(80,'echo.l7t',()=>s.write('GET /ws HTTP/1.1\\r\\nhost: echo\\r\\nconnection: upgrade\\r\\nupgrade: echo\\r\\n\\r\\n'));let b='';const t=setTimeout(()=>{console.log('timeout '+JSON.stringify(b));process.exit(1)},5000);s.on('data',d=>{b+=d;if(b.endsWith('\\r\\n\\r\\n'))s.write('ping');if(b.endsWith('ping')){console.log(b.split('\\r\\n')[0]+' '+b.slice(-4));clearTimeout(t);s.destroy()}})`;
    const r = await lab.ambit(['lab', 'exec', client, '--', 'node', '-e', script], 30_000);
    assert.equal(r.stdout.trim(), 'HTTP/1.1 101 Switching Protocols ping');
  });

  it('propagates W3C trace context and exports one span per request to the OTLP collector', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const t = await requests('http://echo-v1.l7t/traced', ['--set-header', `traceparent:00-${traceId}-${parent}-01`, '--set-header', 'tracestate:vendor=x']);
    const seen = (JSON.parse(t.bodies['200'] as string) as { headers: Record<string, string> }).headers;
    const [, upTrace, upParent, upFlags] = seen['traceparent']!.split('-');
    assert.deepEqual([upTrace, upFlags, seen['tracestate']], [traceId, '01', 'vendor=x'], 'the trace goes on, sampled, with its tracestate');
    assert.notEqual(upParent, parent, "the backend's parent is the waypoint's span");
    let span: { traceId: string; spanId: string; parentSpanId: string; name: string; attributes: Record<string, unknown> } | undefined;
    assert.ok(
      await eventually(async () => {
        const r = await lab.ambit(['lab', 'logs', 'otel/collector']);
        span = r.stdout
          .split('\n')
          .filter((l) => l.startsWith('{"span"'))
          .map((l) => (JSON.parse(l) as { span: NonNullable<typeof span> }).span)
          .find((s) => s.traceId === traceId);
        return span !== undefined;
      }, 60),
      'the collector received the span',
    );
    assert.deepEqual([span!.spanId, span!.parentSpanId, span!.name], [upParent, parent, 'GET echo-v1.l7t.svc.cluster.local']);
    assert.equal(span!.attributes['http.response.status_code'], 200);
    // Without a traceparent, the waypoint starts the trace.
    const fresh = await requests('http://echo-v1.l7t/untraced');
    assert.match((JSON.parse(fresh.bodies['200'] as string) as { headers: Record<string, string> }).headers['traceparent']!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('refuses an invalid route with a status that says why, and keeps the last good one', async () => {
    const good = HTTP_ROUTE('keep', `${ECHO_PARENT}\nrules: [{ backendRefs: [{ name: echo-v2, port: 80 }] }]`);
    await withRoute(good, async () => {
      assert.deepEqual((await requests('http://echo.l7t/', ['--count', '2'])).headers, { 'echo-v2': 2 });
      const bad = HTTP_ROUTE('keep', `${ECHO_PARENT}\nrules: [{ matches: [{ path: { type: RegularExpression, value: "(a)\\\\1" } }], backendRefs: [{ name: echo-v1, port: 80 }] }]`);
      // The lab's apply checks manifests as admission would, and refuses it saying why.
      const dir = mkdtempSync(join(tmpdir(), 'ambit-l7-'));
      writeFileSync(join(dir, 'bad.yaml'), bad);
      const refused = await lab.ambit(['lab', 'apply', '-f', join(dir, 'bad.yaml')]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /not a valid RE2 regular expression \(invalid escape sequence: \\1\); RE2 has no backreferences/);
      // Past admission (kubectl straight to the API server, as with CRDs older than the controller), the controller refuses it.
      await lab.must(['lab', 'kubectl', 'apply', '-f', join(dir, 'bad.yaml')]);
      const accepted = await routeCondition('httproutes', 'keep', 'Accepted', (c) => c.status === 'False');
      assert.match(accepted.message, /regular expression/);
      assert.deepEqual((await requests('http://echo.l7t/', ['--count', '2'])).headers, { 'echo-v2': 2 }, 'the last good route is still in force');
    });
  });
});
