import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationPolicy, Route, RouteRule, Service, Workload } from '../../lib/xds/index.js';
import { MeshState } from './mesh-state.js';

const workload = (over: Partial<Workload> = {}): Workload => ({
  uid: 'u1',
  namespace: 'shop',
  name: 'web-1',
  serviceAccount: 'web',
  node: 'node1',
  ip: '10.244.1.5',
  meshed: true,
  labels: {},
  workloadName: 'web',
  identity: 'spiffe://cluster.local/ns/shop/sa/web',
  waypoint: null,
  ...over,
});

const policy = (ipBlocks: string[]): AuthorizationPolicy => ({
  namespace: 'shop',
  name: 'p',
  scope: 'NAMESPACE',
  selector: null,
  targetRefs: [],
  action: 'ALLOW',
  rules: [{ from: [{ principals: [], notPrincipals: [], namespaces: [], notNamespaces: [], ipBlocks, notIpBlocks: [] }], to: [], when: [], l7When: [], hasL7: false }],
  hasL7: false,
  nodeAgentServices: [],
});

const service = (over: Partial<Service> = {}): Service => ({
  namespace: 'shop',
  name: 'web',
  hostname: 'web.shop.svc.cluster.local',
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: [{ workloadUid: 'u1', address: '10.244.1.5', node: 'node1', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }] }],
  waypoint: null,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
  ...over,
});

describe('a pushed update is checked whole before any of it applies', () => {
  it('NACKs a malformed CIDR and keeps the policies it had', () => {
    const state = new MeshState();
    assert.deepEqual(state.apply('AuthorizationPolicy', [policy(['10.0.0.0/8'])], []), { ok: true });
    const r = state.apply('AuthorizationPolicy', [{ ...policy(['10.0.0.0/8']), name: 'fine' }, policy(['10.0.0.0/99'])], []);
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, /AuthorizationPolicy shop\/p rules\[0\]: ipBlocks prefix length must be 0..32/);
    const dump = state.dump() as { authorizationPolicies: AuthorizationPolicy[] };
    assert.deepEqual(dump.authorizationPolicies.map((p) => p.rules[0]!.from[0]!.ipBlocks), [['10.0.0.0/8']], 'nothing of the rejected update applied');
  });

  it('NACKs addresses that are not addresses, out-of-range ports and unknown enums', () => {
    const state = new MeshState();
    const bad: [Parameters<MeshState['apply']>[0], unknown, RegExp][] = [
      ['Workload', workload({ ip: '10.244.1.999' }), /ip "10.244.1.999" is not an IPv4 address/],
      ['Workload', workload({ identity: 'web' }), /identity "web" is not spiffe/],
      ['Service', service({ clusterIp: 'nope' }), /clusterIp "nope"/],
      ['Service', service({ endpoints: [{ workloadUid: 'u1', address: '10.244.1.5', node: 'node1', ready: true, ports: [{ servicePort: 80, targetPort: 70000 }] }] }), /out of range/],
      ['Service', service({ lbPolicy: 'RANDOM' as never }), /unknown lbPolicy/],
      ['AuthorizationPolicy', { ...policy([]), action: 'MAYBE' }, /unknown action/],
    ];
    for (const [type, r, message] of bad) {
      const res = state.apply(type, [r as never], []);
      assert.equal(res.ok, false, `${type} ${JSON.stringify(r)}`);
      assert.match((res as { error: string }).error, message);
    }
    assert.equal(state.apply('Workload', [workload()], []).ok, true, 'the control: a good one applies');
  });
});

const rule = (over: Partial<RouteRule> = {}): RouteRule => ({
  name: '',
  matches: [{ path: { type: 'PATH_PREFIX', value: '/api', name: '' }, headers: [{ type: 'REGULAR_EXPRESSION', value: 'a.*', name: 'x-user' }], queryParams: [], method: 'GET' }],
  filters: [{ filter: 'requestMirror', requestMirror: { backend: { namespace: 'shop', name: 'shadow', port: 80 }, numerator: 1, denominator: 10 } }],
  backends: [
    { ref: { namespace: 'shop', name: 'v1', port: 8080 }, weight: 9, filters: [] },
    { ref: null, weight: 1, filters: [] },
  ],
  requestTimeoutMs: 0,
  backendRequestTimeoutMs: 0,
  ...over,
});

const route = (over: Partial<Route> = {}): Route => ({
  namespace: 'shop',
  name: 'web',
  kind: 'HTTP',
  parents: [{ namespace: 'shop', name: 'web', port: 0, consumer: false }],
  hostnames: [],
  rules: [rule()],
  createdMs: '0',
  ...over,
});

describe('Routes in the state (a waypoint reuses it)', () => {
  it('stores them by <kind>/<namespace>/<name>, an unresolved backend (no ref) included', () => {
    const state = new MeshState();
    assert.deepEqual(state.apply('Route', [route(), route({ kind: 'GRPC' })], []), { ok: true });
    assert.deepEqual(state.all('Route').map((r) => r.kind), ['HTTP', 'GRPC']);
    assert.deepEqual(state.apply('Route', [], ['HTTPRoute/shop/web']), { ok: true });
    assert.deepEqual(state.all('Route').map((r) => r.kind), ['GRPC']);
  });

  it('NACKs what the waypoint could not apply: RE2-invalid patterns, bad shares, ports and enums', () => {
    const state = new MeshState();
    const bad: [Route, RegExp][] = [
      [route({ rules: [rule({ matches: [{ path: { type: 'REGULAR_EXPRESSION', value: '(a)\\1', name: '' }, headers: [], queryParams: [], method: '' }] })] }), /Route HTTP\/shop\/web rules\[0\]: "\(a\)\\\\1" is not a valid RE2 regular expression/],
      [route({ rules: [rule({ filters: [{ filter: 'requestMirror', requestMirror: { backend: { namespace: 'shop', name: 's', port: 80 }, numerator: 3, denominator: 2 } }] })] }), /mirror share 3\/2/],
      [route({ rules: [rule({ backends: [{ ref: { namespace: 'shop', name: 'v1', port: 0 }, weight: 1, filters: [] }] })] }), /backend port 0 out of range/],
      [route({ rules: [rule({ backends: [{ ref: null, weight: -1, filters: [] }] })] }), /backend weight -1/],
      [route({ rules: [rule({ filters: [{ filter: 'requestRedirect', requestRedirect: { scheme: '', hostname: '', path: null, port: 0, statusCode: 200 } }] })] }), /redirect status 200/],
      [route({ parents: [] }), /no parents/],
      [route({ kind: 'TCP' as never }), /unknown kind TCP/],
    ];
    for (const [r, message] of bad) {
      const res = state.apply('Route', [r], []);
      assert.equal(res.ok, false, JSON.stringify(r));
      assert.match((res as { error: string }).error, message);
    }
    assert.deepEqual(state.all('Route'), [], 'nothing of a rejected update applied');
  });
});
