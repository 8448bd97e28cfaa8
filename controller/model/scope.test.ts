import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationPolicy, Service, Workload } from '../../lib/xds/types.js';
import { Placement, waypointView } from './scope.js';

const web: Workload = {
  uid: 'uid-web',
  namespace: 'shop',
  name: 'web-1',
  serviceAccount: 'web',
  node: 'node-b',
  ip: '10.0.2.5',
  meshed: true,
  labels: { app: 'web' },
  workloadName: 'web',
  identity: 'spiffe://cluster.local/ns/shop/sa/web',
  waypoint: null,
};

const service = (name: string, waypoint: { namespace: string; name: string } | null): Service => ({
  namespace: 'shop',
  name,
  hostname: `${name}.shop.svc.cluster.local`,
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: [{ workloadUid: 'uid-web', address: '10.0.2.5', node: 'node-b', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }] }],
  waypoint,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
});

const targeting = (kind: 'Service' | 'Waypoint', name: string, nodeAgentServices: string[]): AuthorizationPolicy => ({
  namespace: 'shop',
  name: `p-${kind}-${name}`,
  scope: 'TARGET_REFS',
  selector: null,
  targetRefs: [{ group: '', kind, name }],
  action: 'DENY',
  rules: [],
  hasL7: false,
  nodeAgentServices,
});

describe('who is sent a Service- or Waypoint-targeted policy', () => {
  const wp = { namespace: 'shop', name: 'wp' };
  const placement = new Placement(new Map([[web.uid, web]]), new Map([['shop/web', service('web', wp)], ['shop/plain', service('plain', null)]]));
  const scope = (p: AuthorizationPolicy) => [...(placement.scopeOf('AuthorizationPolicy', p) as ReadonlySet<string>)].sort();

  it("a Waypoint target: that waypoint's proxies alone", () => {
    assert.deepEqual(scope(targeting('Waypoint', 'wp', [])), [waypointView(wp)]);
  });

  it('a Service a running waypoint serves: that waypoint; one the node agents enforce: the nodes of its endpoints', () => {
    assert.deepEqual(scope(targeting('Service', 'web', [])), ['waypoint/shop/wp']);
    // The waypoint does not run: the controller leaves the Service to the node agents.
    assert.deepEqual(scope(targeting('Service', 'web', ['web'])), ['node-b']);
    assert.deepEqual(scope(targeting('Service', 'plain', ['plain'])), ['node-b']);
  });
});
