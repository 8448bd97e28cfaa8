import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationPolicy, Service, Workload } from '../../lib/xds/index.js';
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
