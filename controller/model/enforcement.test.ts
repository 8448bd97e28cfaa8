import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationPolicy as Cr } from '../../lib/crds/index.js';
import type { Service, WaypointRef, Workload } from '../../lib/xds/index.js';
import { enforcedCondition, nodeAgentServices, waypointCondition, type EnforcementView, type WaypointState } from './enforcement.js';
import { compileAuthorizationPolicy } from './policies.js';

const wl = (name: string, labels: Record<string, string>, meshed = true, namespace = 'shop'): Workload => ({
  uid: `uid-${name}`,
  namespace,
  name,
  serviceAccount: 'default',
  node: 'node1',
  ip: '',
  meshed,
  labels,
  workloadName: name,
  identity: `spiffe://cluster.local/ns/${namespace}/sa/default`,
  waypoint: null,
});

const svc = (name: string, endpoints: { pod: string; ports: [number, number][] }[]): Service => ({
  namespace: 'shop',
  name,
  hostname: `${name}.shop.svc.cluster.local`,
  clusterIp: '10.96.0.10',
  ports: [],
  endpoints: endpoints.map((e) => ({ workloadUid: `uid-${e.pod}`, address: '', node: 'node1', ready: true, ports: e.ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })) })),
  waypoint: null,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
});

/** A model: namespace shop in the mesh, `outside` not; web-1/web-2 meshed, web-3 opted out. */
class FakeView implements EnforcementView {
  readonly rootNamespace = 'ambit-system';
  workloads = [wl('web-1', { app: 'web' }), wl('web-2', { app: 'web' }), wl('web-3', { app: 'web', 'ambit.dev/dataplane-mode': 'none' }, false), wl('db-1', { app: 'db' })];
  services = [svc('web', [{ pod: 'web-1', ports: [[80, 8080]] }, { pod: 'web-2', ports: [[80, 8080]] }]), svc('db', [{ pod: 'db-1', ports: [[5432, 5432]] }]), svc('empty', [])];
  /** Service name -> waypoint name. */
  bindings = new Map<string, string>();
  waypoints = new Map<string, WaypointState>();

  workloadsByUid(): ReadonlyMap<string, Workload> {
    return new Map(this.workloads.map((w) => [w.uid, w]));
  }
  workloadsIn(namespace: string): readonly Workload[] {
    return this.workloads.filter((w) => w.namespace === namespace);
  }
  pushedService(namespace: string, name: string): Service | undefined {
    return this.services.find((s) => s.namespace === namespace && s.name === name);
  }
  namespaceInMesh(namespace: string): boolean {
    return namespace === 'shop';
  }
  serviceWaypoint(namespace: string, name: string): WaypointRef | null {
    const wp = this.bindings.get(name);
    return wp ? { namespace, name: wp } : null;
  }
  waypointState(ref: WaypointRef): WaypointState {
    return this.waypoints.get(ref.name) ?? 'missing';
  }
}

const policy = (spec: Cr['spec'], namespace = 'shop') =>
  compileAuthorizationPolicy({ apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace }, spec }, 'ambit-system');
const targets = (...refs: [string, string][]) => policy({ action: 'DENY', rules: [{}], targetRefs: refs.map(([kind, name]) => ({ kind, name })) });
const enforced = (view: EnforcementView, p: ReturnType<typeof policy>) => enforcedCondition(view, p, 3);

describe('where an AuthorizationPolicy is enforced', () => {
  it('pushes every Service target no running waypoint serves to the node agents, and no Waypoint target', () => {
    const view = new FakeView();
    view.bindings.set('db', 'absent-wp').set('empty', 'idle-wp').set('web', 'live-wp');
    view.waypoints.set('idle-wp', 'not-running');
    assert.deepEqual(nodeAgentServices(view, targets(['Service', 'web'], ['Service', 'db'], ['Service', 'empty'], ['Waypoint', 'idle-wp'])), ['web', 'db', 'empty']);
    // The switch: once a waypoint serves the Service, the node agents leave it to the waypoint.
    view.waypoints.set('live-wp', 'serving');
    assert.deepEqual(nodeAgentServices(view, targets(['Service', 'web'], ['Service', 'db'])), ['db']);
  });

  it('a Service target: the node agents of its endpoints, on its target ports', () => {
    const c = enforced(new FakeView(), targets(['Service', 'web']));
    assert.deepEqual([c.type, c.status, c.reason, c.observedGeneration], ['Enforced', 'True', 'NodeAgents', 3]);
    assert.equal(
      c.message,
      "Service web: the node agents enforce it on every connection to its endpoints on the Service's target ports, by ClusterIP or pod IP alike: port 8080 (Service port 80) of pods web-1, web-2; other ports of those pods are not covered.",
    );
  });

  it('a Service bound to a waypoint that does not serve it: still the node agents, and the message says why', () => {
    const view = new FakeView();
    view.bindings.set('web', 'wp');
    const missing = enforced(view, targets(['Service', 'web']));
    assert.deepEqual([missing.status, missing.reason], ['True', 'NodeAgents']);
    assert.match(missing.message, /Its ambit\.dev\/use-waypoint label names waypoint shop\/wp, which does not exist, so its traffic still goes straight to its endpoints\.$/);
    view.waypoints.set('wp', 'not-running');
    assert.match(enforced(view, targets(['Service', 'web'])).message, /waypoint shop\/wp, which does not run \(none of its proxies is ready\)/);
    view.waypoints.set('wp', 'serving');
    const served = enforced(view, targets(['Service', 'web']));
    assert.deepEqual([served.status, served.reason, served.message], ['True', 'Waypoint', 'Service web: its waypoint shop/wp enforces it.']);
  });

  it('a Waypoint target that does not run is enforced nowhere, and says so', () => {
    const view = new FakeView();
    const c = enforced(view, targets(['Waypoint', 'wp']));
    assert.deepEqual([c.status, c.reason], ['False', 'NotEnforced']);
    assert.equal(c.message, 'It targets waypoint shop/wp, which does not exist; a policy that targets a Waypoint is enforced by that waypoint alone, so nothing enforces it there.');
    view.waypoints.set('wp', 'not-running');
    assert.match(enforced(view, targets(['Waypoint', 'wp'])).message, /which does not run/);
    view.waypoints.set('wp', 'serving');
    assert.deepEqual(pick(enforced(view, targets(['Waypoint', 'wp']))), ['True', 'Waypoint']);
    assert.deepEqual(pick(enforced(view, targets(['Waypoint', 'wp'], ['Service', 'db']))), ['True', 'NodeAgentsAndWaypoint']);
  });

  it('says which parts are not enforced: a missing Service, a Waypoint, endpoints outside the mesh', () => {
    const view = new FakeView();
    const c = enforced(view, targets(['Service', 'web'], ['Waypoint', 'wp'], ['Service', 'nope']));
    assert.deepEqual(pick(c), ['False', 'PartiallyEnforced']);
    assert.match(c.message, /Service nope does not exist in namespace shop, so nothing enforces the policy for it; once it exists, the node agents of its endpoints will\./);
    assert.deepEqual(pick(enforced(view, targets(['Service', 'nope']))), ['False', 'NotEnforced']);
    view.services[0] = svc('web', [{ pod: 'web-1', ports: [[80, 8080]] }, { pod: 'web-3', ports: [[80, 8080]] }]);
    const gap = enforced(view, targets(['Service', 'web']));
    assert.deepEqual(pick(gap), ['False', 'PartiallyEnforced']);
    assert.match(gap.message, /port 8080 \(Service port 80\) of pod web-1; other ports of those pods are not covered\. Not on endpoint web-3: not in the mesh, so nothing enforces it there\./);
    view.services[0] = svc('web', [{ pod: 'web-3', ports: [[80, 8080]] }]);
    assert.deepEqual(pick(enforced(view, targets(['Service', 'web']))), ['False', 'NotEnforced']);
  });

  it('a Service with no endpoints yet is in force in a meshed namespace', () => {
    const c = enforced(new FakeView(), targets(['Service', 'empty']));
    assert.deepEqual(pick(c), ['True', 'NodeAgents']);
    assert.equal(c.message, 'Service empty has no endpoints now; the node agents enforce it on those it gets, on its target ports.');
  });

  it('an endpoint that names no pod is matched by address, as the node agents match it', () => {
    const view = new FakeView();
    view.workloads[0] = { ...view.workloads[0]!, ip: '10.244.1.5' };
    view.services[0] = { ...svc('web', []), endpoints: [{ workloadUid: '', address: '10.244.1.5', node: 'node1', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }] }, { workloadUid: '', address: '192.0.2.1', node: '', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }] }] };
    const c = enforced(view, targets(['Service', 'web']));
    assert.deepEqual(pick(c), ['False', 'PartiallyEnforced']);
    assert.match(c.message, /port 8080 \(Service port 80\) of pod web-1; .* Not on endpoint 192\.0\.2\.1: not in the mesh/);
  });

  it('names the ports of each endpoint, grouped', () => {
    const view = new FakeView();
    view.services[0] = svc('web', [
      { pod: 'web-1', ports: [[80, 8080], [9000, 9001]] },
      { pod: 'web-2', ports: [[80, 8081]] },
    ]);
    assert.match(enforced(view, targets(['Service', 'web'])).message, /ports 8080 \(Service port 80\), 9001 \(Service port 9000\) of pod web-1; port 8081 \(Service port 80\) of pod web-2;/);
  });

  it('a selector: the node agents of the matching pods, named, on every port', () => {
    const view = new FakeView();
    const db = enforced(view, policy({ selector: { matchLabels: { app: 'db' } } }));
    assert.deepEqual(pick(db), ['True', 'NodeAgents']);
    assert.equal(db.message, 'The node agents enforce it on every connection to the pods of namespace shop labelled app=db, on every port: now pod db-1.');
    const web = enforced(view, policy({ selector: { matchLabels: { app: 'web' } } }));
    assert.deepEqual(pick(web), ['False', 'PartiallyEnforced'], 'web-3 opted out');
    assert.match(web.message, /now pods web-1, web-2\. Not on pod web-3: opted out of the mesh/);
    assert.match(enforced(view, policy({ selector: { matchLabels: { app: 'none' } } })).message, /no pod matches now\.$/);
  });

  it('names at most five pods', () => {
    const view = new FakeView();
    view.workloads = Array.from({ length: 8 }, (_, i) => wl(`api-${i}`, { app: 'api' }));
    assert.match(enforced(view, policy({ selector: { matchLabels: { app: 'api' } } })).message, /now pods api-0, api-1, api-2, api-3, api-4 and 3 more\.$/);
  });

  it('namespace-wide and mesh-wide', () => {
    const view = new FakeView();
    view.workloads = view.workloads.filter((w) => w.meshed);
    const ns = enforced(view, policy({}));
    assert.deepEqual([ns.status, ns.reason, ns.message], ['True', 'NodeAgents', 'Namespace-wide: the node agents enforce it on every connection to the pods of namespace shop, on every port.']);
    const mesh = enforced(view, policy({}, 'ambit-system'));
    assert.deepEqual(
      [mesh.status, mesh.reason, mesh.message],
      ['True', 'NodeAgents', 'Mesh-wide (in the root namespace ambit-system, without a selector): the node agents enforce it on every connection to every pod in the mesh, on every port.'],
    );
  });

  it("a waypoint's own proxies are not pods a policy misses, though their traffic is never captured", () => {
    const view = new FakeView();
    view.workloads = [...view.workloads.filter((w) => w.meshed), wl('wp-7d9f-abcde', { 'ambit.dev/waypoint': 'wp', 'ambit.dev/dataplane-mode': 'none' }, false)];
    const ns = enforced(view, policy({}));
    assert.deepEqual([ns.status, ns.reason, ns.message], ['True', 'NodeAgents', 'Namespace-wide: the node agents enforce it on every connection to the pods of namespace shop, on every port.']);
  });

  it('a policy in a namespace outside the mesh is enforced nowhere', () => {
    const c = enforced(new FakeView(), policy({ selector: { matchLabels: { app: 'x' } } }, 'outside'));
    assert.deepEqual(pick(c), ['False', 'NotEnforced']);
    assert.match(c.message, /^Namespace outside is not in the mesh/);
  });

  it('WaypointAccepted is True only when a waypoint that runs serves every target', () => {
    const view = new FakeView();
    const l7 = policy({ targetRefs: [{ kind: 'Service', name: 'web' }], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] });
    assert.equal(waypointCondition(view, targets(['Service', 'web']), 1), undefined, 'no L7 rules, no condition');
    assert.match(waypointCondition(view, l7, 1)!.message, /^Service web has no waypoint .*fail-closed/);
    view.bindings.set('web', 'wp');
    view.waypoints.set('wp', 'not-running');
    const idle = waypointCondition(view, l7, 1)!;
    assert.deepEqual([idle.status, idle.reason], ['False', 'NoWaypoint']);
    assert.match(idle.message, /^Service web names waypoint shop\/wp, which does not run/);
    view.waypoints.set('wp', 'serving');
    // A running waypoint enforces L7 rules on HTTP, fail-closed on anything else, and the condition says so.
    const served = waypointCondition(view, l7, 1)!;
    assert.deepEqual(pick(served), ['True', 'ResolvedWaypoint']);
    assert.match(served.message, /enforces the L7 rules on each HTTP request \(HTTP\/1\.1, and HTTP\/2 with prior knowledge, as gRPC sends it\)\. On a connection that is not HTTP .*fail-closed/);
  });
});

function pick(c: { status: string; reason: string }): [string, string] {
  return [c.status, c.reason];
}
