import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthorizationPolicy, PeerAuthentication, Service, Workload } from '../../lib/xds/index.js';
import { authorizationPolicy, conditions, createPod, createService, namespace, peerAuthentication, startLab, startModelHarness, syncEndpointSlices, until, type Lab, type ModelHarness } from '../fixtures.js';
import type { MeshModel } from './model.js';

describe('mesh model from the lab API server', () => {
  let lab: Lab;
  let model: MeshModel;
  let harness: ModelHarness | undefined;
  const workload = (ns: string, name: string) => [...model.resources('Workload').values()].find((w) => w.namespace === ns && w.name === name);

  before(async () => {
    lab = await startLab();
    const { store } = lab;
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient', 'ambit.dev/use-waypoint': 'shop-wp' }));
    store.create('namespaces', namespace('legacy'));
    store.create('namespaces', namespace('ambit-system'));
    createPod(store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', serviceAccount: 'web', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    createPod(store, 'batch-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.6', labels: { app: 'batch', 'ambit.dev/dataplane-mode': 'none' } });
    createPod(store, 'old-1', { namespace: 'legacy', node: 'node-b', ip: '10.0.2.5', labels: { app: 'old' } });
    createService(store, 'web', { namespace: 'shop', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000, targetPort: 9001 }] });
    createService(store, 'direct', { namespace: 'shop', clusterIP: '10.96.0.11', selector: { app: 'batch' }, ports: [{ port: 80 }], labels: { 'ambit.dev/use-waypoint': 'none' } });
    syncEndpointSlices(store, 'shop', 'web');
    store.create('authorizationpolicies', authorizationPolicy('allow-web', {
      selector: { matchLabels: { app: 'web' } },
      rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/shop/sa/frontend'], notNamespaces: ['legacy'] } }], to: [{ operation: { ports: ['8080', 9000] } }], when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }] }],
    }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('deny-posts', { targetRefs: [{ kind: 'Service', name: 'web' }], action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }, 'shop'));
    store.create('peerauthentications', peerAuthentication('mesh', { mtls: { mode: 'STRICT' } }, 'ambit-system'));

    harness = await startModelHarness(lab);
    model = harness.model;
  });

  after(async () => {
    await harness?.stop();
    await lab?.close();
  });

  it('builds workloads with mesh membership, identity and waypoint', () => {
    const web = workload('shop', 'web-1') as Workload;
    assert.equal(web.meshed, true);
    assert.equal(web.identity, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.equal(web.serviceAccount, 'web');
    assert.equal(web.workloadName, 'web');
    assert.equal(web.waypoint, null, "a namespace waypoint of unknown kind serves Services, not workloads");
    assert.equal(workload('shop', 'batch-1')?.meshed, false, 'the pod opted out');
    assert.equal(workload('legacy', 'old-1')?.meshed, false, 'the namespace is not in the mesh');
    assert.equal(workload('legacy', 'old-1')?.identity, 'spiffe://cluster.local/ns/legacy/sa/default');
  });

  it('builds services with endpoints, resolved target ports and waypoint', () => {
    const svc = model.resources('Service').get('shop/web') as Service;
    const uid = lab.store.get('pods', 'shop', 'web-1').metadata.uid;
    assert.deepEqual(svc.endpoints, [{ workloadUid: uid, address: '10.0.1.5', node: 'node-a', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 9000, targetPort: 9001 }] }]);
    assert.deepEqual(svc.waypoint, { namespace: 'shop', name: 'shop-wp' });
    assert.equal(svc.hostname, 'web.shop.svc.cluster.local');
    assert.equal((model.resources('Service').get('shop/direct') as Service).waypoint, null, 'use-waypoint=none on the Service');
  });

  it('compiles policies to their L4 form', () => {
    const p = model.resources('AuthorizationPolicy').get('shop/allow-web') as AuthorizationPolicy;
    assert.equal(p.scope, 'WORKLOAD_SELECTOR');
    assert.deepEqual(p.selector, { matchLabels: { app: 'web' } });
    assert.equal(p.action, 'ALLOW');
    assert.deepEqual(p.rules, [
      {
        from: [{ principals: ['cluster.local/ns/shop/sa/frontend'], notPrincipals: [], namespaces: [], notNamespaces: ['legacy'], ipBlocks: [], notIpBlocks: [] }],
        to: [{ ports: [8080, 9000], notPorts: [], methods: [], notMethods: [], paths: [], notPaths: [], hosts: [], notHosts: [] }],
        when: [{ key: 'source.ip', values: ['10.0.0.0/8'], notValues: [] }],
        l7When: [],
        hasL7: false,
      },
    ]);
    const deny = model.resources('AuthorizationPolicy').get('shop/deny-posts') as AuthorizationPolicy;
    assert.equal(deny.scope, 'TARGET_REFS');
    assert.deepEqual(deny.targetRefs, [{ group: '', kind: 'Service', name: 'web' }]);
    assert.equal(deny.hasL7, true);
    const pa = model.resources('PeerAuthentication').get('ambit-system-root/mesh') as PeerAuthentication | undefined;
    // The root namespace does not exist in the store, so that PeerAuthentication could not be created there.
    assert.equal(pa, undefined);
  });

  it('answers who runs where', () => {
    assert.equal(model.hasServiceAccountOnNode('node-a', 'shop', 'web'), true);
    assert.equal(model.hasServiceAccountOnNode('node-b', 'shop', 'web'), false);
    assert.equal(model.hasServiceAccountOnNode('node-b', 'legacy', 'default'), true);
  });

  it('writes Accepted, Enforced, and WaypointAccepted for L7 rules, each true to what enforces the policy', async () => {
    await until('status of allow-web', () => conditions(lab.store, 'authorizationpolicies', 'shop', 'allow-web').some((c) => c.type === 'Accepted' && c.status === 'True'));
    await until('status of deny-posts', () => conditions(lab.store, 'authorizationpolicies', 'shop', 'deny-posts').length === 3);
    const c = conditions(lab.store, 'authorizationpolicies', 'shop', 'deny-posts');
    assert.equal(c.find((x) => x.type === 'Accepted')?.observedGeneration, 1);
    // The namespace names waypoint shop-wp, which does not exist: web's endpoints' node agents enforce the policy, its L7 rule fail-closed.
    const enforced = c.find((x) => x.type === 'Enforced')!;
    assert.deepEqual([enforced.status, enforced.reason], ['True', 'NodeAgents']);
    assert.match(enforced.message, /^Service web: .* ports 8080 \(Service port 80\), 9001 \(Service port 9000\) of pod web-1; .* names waypoint shop\/shop-wp, which does not exist/);
    const waypoint = c.find((x) => x.type === 'WaypointAccepted')!;
    assert.deepEqual([waypoint.status, waypoint.reason], ['False', 'NoWaypoint']);
    assert.match(waypoint.message, /^Service web names waypoint shop\/shop-wp, which does not exist; for it node agents enforce it fail-closed/);
    assert.deepEqual((model.resources('AuthorizationPolicy').get('shop/deny-posts') as AuthorizationPolicy).nodeAgentServices, ['web']);

    // The Waypoint is created, but Ambit runs no waypoint proxies: still the node agents, and the status says why.
    lab.store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'shop-wp', namespace: 'shop' }, spec: {} });
    await until('Enforced names the idle waypoint', () =>
      conditions(lab.store, 'authorizationpolicies', 'shop', 'deny-posts').some((x) => x.type === 'Enforced' && /shop-wp, which does not run/.test(x.message)),
    );
    assert.deepEqual((model.resources('AuthorizationPolicy').get('shop/deny-posts') as AuthorizationPolicy).nodeAgentServices, ['web']);
  });

  it('keeps Enforced current as pods come and go', async () => {
    const enforced = () => conditions(lab.store, 'authorizationpolicies', 'shop', 'allow-web').find((x) => x.type === 'Enforced')?.message ?? '';
    await until('allow-web names web-1', () => enforced().endsWith('labelled app=web, on every port: now pod web-1.'));
    createPod(lab.store, 'web-2', { namespace: 'shop', node: 'node-b', ip: '10.0.2.7', labels: { app: 'web' } });
    await until('allow-web names web-2 too', () => enforced().endsWith('now pods web-1, web-2.'));
    lab.store.delete('pods', 'shop', 'web-2');
    await until('and forgets it', () => enforced().endsWith('now pod web-1.'));
  });

  it('rejects a malformed AuthorizationPolicy with Accepted=False and keeps the last good version', async () => {
    const { store } = lab;
    store.patch('authorizationpolicies', 'shop', 'allow-web', { spec: { action: 'PERMIT', rules: [{ from: [{ source: { principals: ['frontend'] } }] }] } }, 'merge');
    await until('Accepted=False', () => conditions(store, 'authorizationpolicies', 'shop', 'allow-web').some((c) => c.type === 'Accepted' && c.status === 'False'));
    const c = conditions(store, 'authorizationpolicies', 'shop', 'allow-web').find((x) => x.type === 'Accepted')!;
    assert.equal(c.reason, 'Invalid');
    assert.equal(c.observedGeneration, 2);
    assert.match(c.message, /spec\.action/);
    assert.match(c.message, /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]/);
    assert.match(c.message, /generation 1\) stays in force/);
    const enforced = model.resources('AuthorizationPolicy').get('shop/allow-web') as AuthorizationPolicy;
    assert.equal(enforced.action, 'ALLOW');
    assert.deepEqual(enforced.rules[0]!.from[0]!.principals, ['cluster.local/ns/shop/sa/frontend']);

    // A new malformed policy: rejected, and nothing of it is enforced.
    store.create('authorizationpolicies', authorizationPolicy('broken', { selector: { matchLabels: {} }, rules: 'all' }, 'shop'));
    await until('broken rejected', () => conditions(store, 'authorizationpolicies', 'shop', 'broken').some((x) => x.status === 'False'));
    assert.match(conditions(store, 'authorizationpolicies', 'shop', 'broken')[0]!.message, /Nothing of it is enforced/);
    assert.equal(model.resources('AuthorizationPolicy').has('shop/broken'), false);
    assert.equal((model.debug() as { rejected: { AuthorizationPolicy: unknown[] } }).rejected.AuthorizationPolicy.length, 2);

    // Fixed: accepted again and enforced as written.
    store.patch('authorizationpolicies', 'shop', 'allow-web', { spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['legacy'] } }] }] } }, 'merge');
    await until('Accepted=True again', () => conditions(store, 'authorizationpolicies', 'shop', 'allow-web').some((x) => x.type === 'Accepted' && x.status === 'True' && x.observedGeneration === 3));
    assert.equal((model.resources('AuthorizationPolicy').get('shop/allow-web') as AuthorizationPolicy).action, 'DENY');
  });

  it('does not write a status that is already there', async () => {
    const status = harness!.status;
    await status.reconcile();
    const writes = status.writes;
    await status.reconcile();
    assert.equal(status.writes, writes);
  });

  it('marks L7 rules without a waypoint as enforced fail-closed', async () => {
    lab.store.create('authorizationpolicies', authorizationPolicy('l7-on-pods', { selector: { matchLabels: { app: 'web' } }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] }, 'shop'));
    await until('WaypointAccepted=False', () => conditions(lab.store, 'authorizationpolicies', 'shop', 'l7-on-pods').some((c) => c.type === 'WaypointAccepted' && c.status === 'False'));
    const c = conditions(lab.store, 'authorizationpolicies', 'shop', 'l7-on-pods').find((x) => x.type === 'WaypointAccepted')!;
    assert.equal(c.reason, 'NoWaypoint');
    assert.match(c.message, /fail-closed/);
  });

  it('rejects a malformed PeerAuthentication', async () => {
    lab.store.create('peerauthentications', peerAuthentication('off', { mtls: { mode: 'DISABLE' } }, 'shop'));
    await until('rejected', () => conditions(lab.store, 'peerauthentications', 'shop', 'off').some((c) => c.status === 'False'));
    assert.match(conditions(lab.store, 'peerauthentications', 'shop', 'off')[0]!.message, /DISABLE is not supported/);
    assert.equal(model.resources('PeerAuthentication').has('shop/off'), false);
  });
});
