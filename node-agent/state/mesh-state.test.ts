import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modeOnPort } from '../../lib/policy/index.js';
import type { AuthorizationPolicy, Service, Workload } from '../../lib/xds/index.js';
import { MeshState } from './mesh-state.js';

const workload = (name: string, ip: string, labels: Record<string, string> = {}, namespace = 'shop'): Workload => ({
  uid: `uid-${name}`,
  namespace,
  name,
  serviceAccount: 'default',
  node: 'node1',
  ip,
  meshed: true,
  labels,
  workloadName: name,
  identity: `spiffe://cluster.local/ns/${namespace}/sa/default`,
  waypoint: null,
});
const web1 = workload('web-1', '10.244.1.5', { app: 'web' });
const web2 = workload('web-2', '10.244.1.6', { app: 'web' });
const db = workload('db-1', '10.244.1.7', { app: 'db' });
const other = workload('web-x', '10.244.1.8', { app: 'web' }, 'other');

const service = (name: string, endpoints: Service['endpoints'], namespace = 'shop'): Service => ({
  namespace,
  name,
  hostname: `${name}.${namespace}.svc.cluster.local`,
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints,
  waypoint: null,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
});
const endpoint = (w: Workload, targetPort: number, byUid = true) => ({ workloadUid: byUid ? w.uid : '', address: w.ip, node: 'node1', ready: true, ports: [{ servicePort: 80, targetPort }] });

const policy = (name: string, over: Partial<AuthorizationPolicy>): AuthorizationPolicy => ({
  namespace: 'shop',
  name,
  scope: 'NAMESPACE',
  selector: null,
  targetRefs: [],
  action: 'DENY',
  rules: [{ from: [], to: [], when: [], l7When: [], hasL7: false }],
  hasL7: false,
  nodeAgentServices: [],
  ...over,
});
const targetsWeb = (name: string, nodeAgentServices: string[]) =>
  policy(name, { scope: 'TARGET_REFS', targetRefs: [{ group: '', kind: 'Service', name: 'web' }], nodeAgentServices });

function stateWith(policies: AuthorizationPolicy[], services: Service[]): MeshState {
  const s = new MeshState();
  assert.deepEqual(s.apply('Workload', [web1, web2, db, other], []), { ok: true });
  assert.deepEqual(s.apply('Service', services, []), { ok: true });
  assert.deepEqual(s.apply('AuthorizationPolicy', policies, []), { ok: true });
  return s;
}
const names = (s: MeshState, w: Workload, port: number) => s.policiesFor(w, port).map((p) => p.name).sort();

describe("the agent's view of policy", () => {
  it('selector, namespace-wide and mesh-wide policies cover their workloads on every port', () => {
    const s = stateWith(
      [
        policy('ns', {}),
        policy('sel', { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'db' } } }),
        policy('mesh', { namespace: 'ambit-system', scope: 'MESH' }),
      ],
      [],
    );
    assert.deepEqual(names(s, web1, 8080), ['mesh', 'ns']);
    assert.deepEqual(names(s, db, 1), ['mesh', 'ns', 'sel']);
    assert.deepEqual(names(s, other, 8080), ['mesh']);
  });

  it("a Service-targeted policy covers the Service's endpoints on their target ports only, by uid or address", () => {
    const s = stateWith([targetsWeb('deny-web', ['web'])], [service('web', [endpoint(web1, 8080), endpoint(web2, 8081, false)])]);
    assert.deepEqual(names(s, web1, 8080), ['deny-web']);
    assert.deepEqual(names(s, web1, 9090), [], 'a port that is not the Service’s');
    assert.deepEqual(names(s, web2, 8081), ['deny-web'], 'an endpoint without a pod uid, matched by address');
    assert.deepEqual(names(s, web2, 8080), []);
    assert.deepEqual(names(s, db, 8080), [], 'not an endpoint');
    assert.deepEqual(names(s, other, 8080), [], 'a Service of that name in another namespace is not the target');
  });

  it('follows the endpoints as they change, and leaves to the waypoint what the controller did not give the node agents', () => {
    const s = stateWith([targetsWeb('deny-web', ['web']), targetsWeb('waypoint-only', [])], [service('web', [endpoint(web1, 8080)])]);
    assert.deepEqual(names(s, web1, 8080), ['deny-web']);
    s.apply('Service', [service('web', [endpoint(web2, 8080)])], []);
    assert.deepEqual(names(s, web1, 8080), []);
    assert.deepEqual(names(s, web2, 8080), ['deny-web']);
    s.apply('Service', [], ['shop/web']);
    assert.deepEqual(names(s, web2, 8080), [], 'no Service, nothing to cover');
  });

  it('resolves mTLS per port from the pushed PeerAuthentications', () => {
    const s = stateWith([], []);
    s.apply(
      'PeerAuthentication',
      [{ namespace: 'shop', name: 'web', scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, mode: 'PERMISSIVE', portLevelMtls: [{ port: 8080, mode: 'STRICT' }] }],
      [],
    );
    const m = s.mtlsFor(web1);
    assert.deepEqual([modeOnPort(m, 8080), modeOnPort(m, 9090)], ['STRICT', 'PERMISSIVE']);
    assert.equal(s.mtlsFor(db).mode, 'PERMISSIVE');
  });
});

describe('which waypoint guards a workload (no bypass)', () => {
  const wp = { namespace: 'shop', name: 'wp' };
  const wpService = { ...service('wp', []), clusterIp: '10.96.0.99' };

  it("guards the endpoints of a bound Service and pods whose own traffic goes through one, only while the Waypoint exists", () => {
    const s = new MeshState();
    const ownWaypoint = { ...db, waypoint: wp };
    s.apply('Workload', [web1, web2, ownWaypoint, other], []);
    s.apply('Service', [{ ...service('web', [endpoint(web1, 8080), endpoint(web2, 8080, false)]), waypoint: wp }], []);
    // Service wp (the Waypoint's, which the controller creates) is not there yet: nothing is guarded.
    assert.deepEqual([web1, web2, ownWaypoint, other].map((w) => s.guardingWaypoint(w)), [undefined, undefined, undefined, undefined]);
    s.apply('Service', [wpService], []);
    assert.deepEqual([web1, web2, ownWaypoint, other].map((w) => s.guardingWaypoint(w)), [wp, wp, wp, undefined]);
  });
});
