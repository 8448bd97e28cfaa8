import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TrafficPolicy as Cr } from '../../lib/crds/index.js';
import type { Service } from '../../lib/xds/index.js';
import { conditions, createPod, createService, namespace, startLab, startModelHarness, syncEndpointSlices, trafficPolicy, until, type Lab, type ModelHarness } from '../fixtures.js';
import type { MeshModel } from './model.js';
import { bindTrafficPolicies, compileTrafficPolicy, type CompiledTrafficPolicy } from './traffic-policies.js';

const tp = (name: string, spec: Cr['spec'], creationTimestamp?: string): Cr => ({
  apiVersion: 'ambit.dev/v1alpha1',
  kind: 'TrafficPolicy',
  metadata: { name, namespace: 'shop', ...(creationTimestamp ? { creationTimestamp } : {}) },
  spec,
});
const to = (...names: string[]) => names.map((name) => ({ kind: 'Service', name }));

describe('TrafficPolicy compilation', () => {
  it('maps the load balancer to the pushed enum', () => {
    const p = compileTrafficPolicy(tp('least', { targetRefs: to('web'), loadBalancer: { type: 'LeastRequest' } }, '2025-01-01T00:00:00Z'));
    assert.deepEqual(p, {
      namespace: 'shop',
      name: 'least',
      createdMs: Date.parse('2025-01-01T00:00:00Z'),
      services: ['web'],
      loadBalancer: { lbPolicy: 'LEAST_REQUEST', lbHashHeader: '' },
      waypointFields: [],
      l7: { name: 'shop/least', connectionPool: null, outlierDetection: null, retries: null, timeoutMs: 0, fault: null, localRateLimit: null },
    });
    assert.deepEqual(compileTrafficPolicy(tp('none', { targetRefs: to('web') })).loadBalancer, { lbPolicy: 'ROUND_ROBIN', lbHashHeader: '' });
    assert.equal(compileTrafficPolicy(tp('none', { targetRefs: to('web') })).createdMs, Infinity, 'no timestamp: never older than a dated policy');
  });

  it('lists what only a waypoint can enforce', () => {
    const p = compileTrafficPolicy(
      tp('l7', { targetRefs: to('web'), loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x-user' } }, retries: { attempts: 2 }, timeout: '1s', connectionPool: { maxConnections: 5 } }),
    );
    assert.deepEqual(p.loadBalancer, { lbPolicy: 'CONSISTENT_HASH', lbHashHeader: 'x-user' });
    assert.deepEqual(p.waypointFields, ['spec.loadBalancer.consistentHash', 'spec.connectionPool', 'spec.retries', 'spec.timeout']);
  });

  it('compiles the L7 half a waypoint applies: durations in ms, retryOn split into words and status codes, defaults filled', () => {
    const p = compileTrafficPolicy(
      tp('all', {
        targetRefs: to('web'),
        connectionPool: { maxConnections: 100, maxPendingRequests: 10, connectTimeout: '2s' },
        outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '1m30s', maxEjectionPercent: 50 },
        retries: { attempts: 3, perTryTimeout: '500ms', retryOn: ['5xx', '503', 'connect-failure', '429'] },
        timeout: '5s',
        fault: { delay: { fixedDelay: '2s', percentage: 10 }, abort: { httpStatus: 503 } },
        localRateLimit: { maxTokens: 100, fillInterval: '1s' },
      }),
    );
    assert.deepEqual(p.l7, {
      name: 'shop/all',
      connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequestsPerConnection: 0, connectTimeoutMs: 2000 },
      outlierDetection: { consecutive_5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 90_000, maxEjectionPercent: 50 },
      retries: { attempts: 3, perTryTimeoutMs: 500, retryOn: ['5xx', 'connect-failure'], retriableStatusCodes: [503, 429] },
      timeoutMs: 5000,
      fault: { delayMs: 2000, delayPercentage: 10, abortStatus: 503, abortPercentage: 100 },
      localRateLimit: { maxTokens: 100, tokensPerFill: 100, fillIntervalMs: 1000 },
    });
    const only = compileTrafficPolicy(tp('abort', { targetRefs: to('web'), fault: { abort: { httpStatus: 500, percentage: 0.5 } }, localRateLimit: { maxTokens: 10, tokensPerFill: 2, fillInterval: '250ms' } }));
    assert.deepEqual(only.l7.fault, { delayMs: 0, delayPercentage: 0, abortStatus: 500, abortPercentage: 0.5 });
    assert.deepEqual(only.l7.localRateLimit, { maxTokens: 10, tokensPerFill: 2, fillIntervalMs: 250 });
  });
});

describe('TrafficPolicy precedence', () => {
  const at = (name: string, time: string, ...services: string[]): CompiledTrafficPolicy =>
    compileTrafficPolicy(tp(name, { targetRefs: to(...services), loadBalancer: { type: 'LeastRequest' } }, time));

  it('gives each Service to its oldest policy, then to the first name, and records what the others lost', () => {
    const b = at('b-old', '2025-01-01T00:00:00Z', 'web');
    const a = at('a-new', '2025-01-01T00:00:05Z', 'web', 'api');
    const c = at('c-new', '2025-01-01T00:00:05Z', 'api', 'cart');
    const { inForce, overridden } = bindTrafficPolicies([c, a, b]);
    assert.deepEqual(
      [...inForce].map(([svc, p]) => [svc, p.name]).sort(),
      [
        ['shop/api', 'a-new'],
        ['shop/cart', 'c-new'],
        ['shop/web', 'b-old'],
      ],
    );
    assert.deepEqual(Object.fromEntries(overridden), { 'shop/a-new': [{ service: 'web', by: 'b-old' }], 'shop/c-new': [{ service: 'api', by: 'a-new' }] });
  });
});

describe('TrafficPolicy from the lab API server', () => {
  let lab: Lab;
  let model: MeshModel;
  let harness: ModelHarness | undefined;
  /** The store's clock: each policy is created one second after the one before. */
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const tick = () => (clock += 1000);
  const service = (name: string) => model.resources('Service').get(`shop/${name}`) as Service | undefined;
  const lbOf = (name: string) => [service(name)?.lbPolicy, service(name)?.lbHashHeader];
  const cond = (name: string, type: string) => conditions(lab.store, 'trafficpolicies', 'shop', name).find((c) => c.type === type);

  before(async () => {
    lab = await startLab({ now: () => new Date(clock) });
    const { store } = lab;
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    createPod(store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', labels: { app: 'web' } });
    createPod(store, 'web-2', { namespace: 'shop', node: 'node-b', ip: '10.0.2.5', labels: { app: 'web' } });
    createService(store, 'web', { namespace: 'shop', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    createService(store, 'api', { namespace: 'shop', clusterIP: '10.96.0.11', selector: { app: 'api' }, ports: [{ port: 80 }] });
    syncEndpointSlices(store, 'shop', 'web');
    tick();
    store.create('trafficpolicies', trafficPolicy('least', { targetRefs: to('web'), loadBalancer: { type: 'LeastRequest' } }, 'shop'));

    harness = await startModelHarness(lab);
    model = harness.model;
  });

  after(async () => {
    await harness?.stop();
    await lab?.close();
  });

  it('puts the load balancer on the targeted Service and says so in the status', async () => {
    assert.deepEqual(lbOf('web'), ['LEAST_REQUEST', '']);
    assert.deepEqual(lbOf('api'), ['ROUND_ROBIN', ''], 'no policy: round robin');
    assert.equal(service('api')?.trafficPolicy, null, 'no policy: no traffic_policy');
    assert.equal(service('web')?.endpoints.length, 2);
    await until('conditions of least', () => conditions(lab.store, 'trafficpolicies', 'shop', 'least').length === 3);
    assert.deepEqual(
      conditions(lab.store, 'trafficpolicies', 'shop', 'least').map((c) => [c.type, c.status, c.reason]),
      [
        ['Accepted', 'True', 'Accepted'],
        ['ResolvedRefs', 'True', 'ResolvedRefs'],
        ['Conflicted', 'False', 'NoConflicts'],
      ],
    );
  });

  it('keeps a Service with its oldest policy; the newer one is told, and takes over when the older goes', async () => {
    tick();
    // Its name sorts first, so only its creationTimestamp puts it second.
    lab.store.create('trafficpolicies', trafficPolicy('a-hash', { targetRefs: to('web', 'api'), loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x-user' } } }, 'shop'));
    await until('api hashed', () => service('api')?.lbPolicy === 'CONSISTENT_HASH');
    assert.deepEqual(lbOf('api'), ['CONSISTENT_HASH', 'x-user']);
    assert.deepEqual(lbOf('web'), ['LEAST_REQUEST', ''], 'the older policy keeps web');
    assert.equal(service('web')?.trafficPolicy?.name, 'shop/least', 'the L7 half for waypoints is the policy in force');
    assert.equal(service('api')?.trafficPolicy?.name, 'shop/a-hash');
    await until('Conflicted=True', () => cond('a-hash', 'Conflicted')?.status === 'True');
    const c = cond('a-hash', 'Conflicted')!;
    assert.equal(c.reason, 'OlderPolicyWins');
    assert.match(c.message, /^Service web is held by TrafficPolicy least: .*oldest \(by creationTimestamp, then name\)/);
    assert.equal(cond('least', 'Conflicted')?.status, 'False');

    // Consistent hashing is L7: the status says node agents balance round robin until a waypoint exists.
    const w = cond('a-hash', 'WaypointAccepted')!;
    assert.deepEqual([w.status, w.reason], ['False', 'NoWaypoint']);
    assert.match(w.message, /consistent hashing on header x-user needs a waypoint, so node agents balance connections round robin instead/);

    lab.store.delete('trafficpolicies', 'shop', 'least');
    await until('web taken over', () => service('web')?.lbPolicy === 'CONSISTENT_HASH');
    await until('Conflicted=False', () => cond('a-hash', 'Conflicted')?.status === 'False');
  });

  it('rejects a malformed TrafficPolicy with Accepted=False and keeps its last good version', async () => {
    lab.store.patch('trafficpolicies', 'shop', 'a-hash', { spec: { loadBalancer: { type: 'Random', consistentHash: null } } }, 'merge');
    await until('Accepted=False', () => cond('a-hash', 'Accepted')?.status === 'False');
    const c = cond('a-hash', 'Accepted')!;
    assert.equal(c.reason, 'Invalid');
    assert.equal(c.observedGeneration, 2);
    assert.match(c.message, /spec\.loadBalancer\.type: must be one of RoundRobin, LeastRequest, ConsistentHash \(got "Random"\)/);
    assert.match(c.message, /generation 1\) stays in force/);
    assert.deepEqual(lbOf('web'), ['CONSISTENT_HASH', 'x-user'], 'the last good version is still in force');

    tick();
    lab.store.create('trafficpolicies', trafficPolicy('broken', { loadBalancer: { type: 'LeastRequest' } }, 'shop'));
    await until('broken rejected', () => cond('broken', 'Accepted')?.status === 'False');
    assert.match(cond('broken', 'Accepted')!.message, /spec\.targetRefs: required\. Nothing of it is enforced/);
    assert.equal((model.debug() as { rejected: { TrafficPolicy: unknown[] } }).rejected.TrafficPolicy.length, 2);
  });

  it('says which fields wait for a waypoint, without claiming they work where none serves', async () => {
    tick();
    lab.store.create('trafficpolicies', trafficPolicy('resilience', { targetRefs: to('api'), retries: { attempts: 3 }, timeout: '2s' }, 'shop'));
    await until('WaypointAccepted', () => cond('resilience', 'WaypointAccepted') !== undefined);
    const w = cond('resilience', 'WaypointAccepted')!;
    assert.equal(w.status, 'False');
    assert.equal(w.reason, 'NoWaypoint');
    assert.equal(w.message, 'Service api has no waypoint (label it or its namespace ambit.dev/use-waypoint=<waypoint>): spec.retries, spec.timeout are applied by a waypoint, so they are not applied there.');
  });

  it('waits for a target Service that does not exist yet', async () => {
    tick();
    lab.store.create('trafficpolicies', trafficPolicy('early', { targetRefs: to('cart'), loadBalancer: { type: 'LeastRequest' } }, 'shop'));
    await until('ResolvedRefs=False', () => cond('early', 'ResolvedRefs')?.status === 'False');
    const c = cond('early', 'ResolvedRefs')!;
    assert.equal(c.reason, 'ServiceNotFound');
    assert.equal(c.message, 'Service cart not found in namespace shop; the policy applies to it once it exists.');
    createService(lab.store, 'cart', { namespace: 'shop', clusterIP: '10.96.0.12', selector: { app: 'cart' }, ports: [{ port: 80 }] });
    await until('ResolvedRefs=True', () => cond('early', 'ResolvedRefs')?.status === 'True');
    assert.deepEqual(lbOf('cart'), ['LEAST_REQUEST', '']);
  });
});
