import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import type { ResourceType } from '../../lib/xds/index.js';
import type { RunningController } from '../app.js';
import type { WatchedKind } from '../model/index.js';
import { PUSH_CHANNEL, type PushEvent } from './agent.js';
import {
  authorizationPolicy,
  controllerTarget,
  createPod,
  createService,
  namespace,
  peerAuthentication,
  startLab,
  startTestAgent,
  startTestController,
  syncEndpointSlices,
  tempDir,
  until,
  type Lab,
  type TestAgent,
} from '../fixtures.js';

const NODES = ['node-a', 'node-b', 'node-c'];
const TOKENS = Object.fromEntries(NODES.map((n) => [n, `token-${n}`]));

describe('per-node scoping of the push (controller <-> agents, lab API server)', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let ctl: RunningController;
  const agents = new Map<string, TestAgent>();
  const names = (node: string, type: ResourceType) => [...agents.get(node)!.state[type].keys()].sort();
  const uid = (ns: string, pod: string) => lab.store.get('pods', ns, pod).metadata.uid!;
  /** Waits until the model has read each write (kind, its resourceVersion) and every agent holds the result. */
  const settled = (...writes: [WatchedKind, { metadata: { resourceVersion?: string } }][]) =>
    until('the model read the writes and every agent holds the result', () =>
      writes.every(([kind, o]) => Number(ctl.model.observedResourceVersion(kind)) >= Number(o.metadata.resourceVersion)) && ctl.xds.converged(),
    );
  const slices = (service: string) => {
    syncEndpointSlices(lab.store, 'shop', service);
    return lab.store.list('endpointslices', { namespace: 'shop', labelSelector: `kubernetes.io/service-name=${service}` }).items[0]!;
  };

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    const { store } = lab;
    for (const [i, n] of NODES.entries()) {
      store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
      store.patch('nodes', undefined, n, { status: { addresses: [{ type: 'InternalIP', address: `10.200.0.${10 + i}` }] } }, 'merge', { subresource: 'status' });
    }
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    store.create('namespaces', namespace('legacy'));
    store.create('namespaces', namespace('ambit-system'));
    createPod(store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    createPod(store, 'db-1', { namespace: 'shop', node: 'node-b', ip: '10.0.2.5', labels: { app: 'db' }, ports: [{ name: 'sql', containerPort: 5432 }] });
    createPod(store, 'old-1', { namespace: 'legacy', node: 'node-b', ip: '10.0.2.6', labels: { app: 'old' } });
    createPod(store, 'old-2', { namespace: 'legacy', node: 'node-a', ip: '10.0.1.6', labels: { app: 'old' } });
    createService(store, 'web', { namespace: 'shop', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    createService(store, 'db', { namespace: 'shop', clusterIP: '10.96.0.11', selector: { app: 'db' }, ports: [{ name: 'sql', port: 5432, targetPort: 'sql' }] });
    syncEndpointSlices(store, 'shop', 'web');
    syncEndpointSlices(store, 'shop', 'db');
    const allow = { rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] };
    store.create('authorizationpolicies', authorizationPolicy('mesh-deny', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['evil'] } }] }] }, 'ambit-system'));
    store.create('authorizationpolicies', authorizationPolicy('ns-wide', allow, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('web-only', { selector: { matchLabels: { app: 'web' } }, ...allow }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('db-only', { selector: { matchLabels: { app: 'db' } }, ...allow }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('to-db', { targetRefs: [{ kind: 'Service', name: 'db' }], ...allow }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('legacy-wide', allow, 'legacy'));
    store.create('peerauthentications', peerAuthentication('mesh-strict', { mtls: { mode: 'STRICT' } }, 'ambit-system'));
    store.create('peerauthentications', peerAuthentication('web-permissive', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'PERMISSIVE' } }, 'shop'));
    ctl = await startTestController(lab, dir.path, { AMBIT_AGENT_TOKENS: JSON.stringify(TOKENS) });
    await ctl.synced;
    for (const n of NODES) agents.set(n, startTestAgent(controllerTarget(ctl), n, TOKENS[n]));
    await Promise.all([...agents.values()].map((a) => a.conn.synced));
  });

  after(async () => {
    for (const a of agents.values()) await a.stop();
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('each agent gets every node and Service, the workloads in the mesh and its own, and the policies that can apply on its node', () => {
    for (const n of NODES) {
      assert.deepEqual(names(n, 'Node'), NODES);
      assert.deepEqual(names(n, 'Service'), ['shop/db', 'shop/web']);
    }
    const meshed = [uid('shop', 'web-1'), uid('shop', 'db-1')];
    assert.deepEqual(names('node-a', 'Workload'), [...meshed, uid('legacy', 'old-2')].sort(), 'its own pod outside the mesh, not node-b’s');
    assert.deepEqual(names('node-b', 'Workload'), [...meshed, uid('legacy', 'old-1')].sort());
    assert.deepEqual(names('node-c', 'Workload'), meshed.sort());

    assert.deepEqual(names('node-a', 'AuthorizationPolicy'), ['ambit-system/mesh-deny', 'legacy/legacy-wide', 'shop/ns-wide', 'shop/web-only']);
    assert.deepEqual(names('node-b', 'AuthorizationPolicy'), ['ambit-system/mesh-deny', 'legacy/legacy-wide', 'shop/db-only', 'shop/ns-wide', 'shop/to-db']);
    assert.deepEqual(names('node-c', 'AuthorizationPolicy'), ['ambit-system/mesh-deny']);
    assert.deepEqual(names('node-a', 'PeerAuthentication'), ['ambit-system/mesh-strict', 'shop/web-permissive']);
    assert.deepEqual(names('node-b', 'PeerAuthentication'), ['ambit-system/mesh-strict']);
    assert.deepEqual(names('node-c', 'PeerAuthentication'), ['ambit-system/mesh-strict']);
  });

  it('a pod moving to another node takes its policies along, and they reach the new node before the pod does', async () => {
    const a = agents.get('node-a')!;
    const seen = a.updates.length;
    lab.store.delete('pods', 'shop', 'db-1');
    const pod = createPod(lab.store, 'db-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.7', labels: { app: 'db' }, ports: [{ name: 'sql', containerPort: 5432 }] });
    await settled(['Pod', pod], ['EndpointSlice', slices('db')]);
    const moved = uid('shop', 'db-1');
    assert.deepEqual(names('node-a', 'AuthorizationPolicy'), ['ambit-system/mesh-deny', 'legacy/legacy-wide', 'shop/db-only', 'shop/ns-wide', 'shop/to-db', 'shop/web-only']);
    assert.deepEqual(names('node-b', 'AuthorizationPolicy'), ['ambit-system/mesh-deny', 'legacy/legacy-wide'], 'node-b runs no pod of shop any more');
    assert.ok(names('node-c', 'Workload').includes(moved));

    const fresh = a.updates.slice(seen);
    const policiesAt = fresh.findIndex((u) => u.type === 'AuthorizationPolicy' && u.upserts.includes('shop/db-only'));
    const podAt = fresh.findIndex((u) => u.type === 'Workload' && u.upserts.includes(moved));
    const endpointAt = fresh.findLastIndex((u) => u.type === 'Service' && u.upserts.includes('shop/db'));
    assert.ok(policiesAt >= 0 && podAt > policiesAt && endpointAt > policiesAt, `policies first: ${JSON.stringify(fresh)}`);
  });

  it('a namespace leaving the mesh takes its workloads from the other nodes; its policies stay where its pods run', async () => {
    await settled(['Namespace', lab.store.patch('namespaces', undefined, 'shop', { metadata: { labels: { 'ambit.dev/dataplane-mode': null } } }, 'merge')]);
    assert.deepEqual(names('node-c', 'Workload'), []);
    assert.deepEqual(names('node-b', 'Workload'), [uid('legacy', 'old-1')]);
    assert.ok(names('node-a', 'Workload').includes(uid('shop', 'web-1')), 'node-a keeps its own pods');
    assert.ok(names('node-a', 'AuthorizationPolicy').includes('shop/web-only'));
    await settled(['Namespace', lab.store.patch('namespaces', undefined, 'shop', { metadata: { labels: { 'ambit.dev/dataplane-mode': 'ambient' } } }, 'merge')]);
    assert.deepEqual(names('node-c', 'Workload'), [uid('shop', 'db-1'), uid('shop', 'web-1')].sort());
  });

  it("a change that concerns one node leaves the others' versions as they were and sends them nothing", async () => {
    const before = new Map(NODES.map((n) => [n, { versions: agents.get(n)!.conn.status().versions, updates: agents.get(n)!.updates.length }]));
    const pushedTo = new Set<string>();
    const onPush = (e: unknown) => pushedTo.add((e as PushEvent).node);
    diagnostics.subscribe(PUSH_CHANNEL, onPush);
    // A pod outside the mesh on node-b, and a policy for it there.
    const pod = createPod(lab.store, 'old-3', { namespace: 'legacy', node: 'node-b', ip: '10.0.2.9', labels: { app: 'batch' } });
    const policy = lab.store.create('authorizationpolicies', authorizationPolicy('batch', { selector: { matchLabels: { app: 'batch' } }, rules: [] }, 'legacy'));
    await settled(['Pod', pod], ['AuthorizationPolicy', policy]);
    diagnostics.unsubscribe(PUSH_CHANNEL, onPush);
    assert.deepEqual([...pushedTo], ['node-b'], 'the controller wrote to node-b only (ambit:xds:push)');
    const b = agents.get('node-b')!;
    assert.ok(names('node-b', 'Workload').includes(uid('legacy', 'old-3')));
    assert.ok(names('node-b', 'AuthorizationPolicy').includes('legacy/batch'));
    assert.notDeepEqual(b.conn.status().versions, before.get('node-b')!.versions);
    for (const n of ['node-a', 'node-c']) {
      assert.deepEqual(agents.get(n)!.conn.status().versions, before.get(n)!.versions, `${n}: same versions`);
      assert.equal(agents.get(n)!.updates.length, before.get(n)!.updates, `${n}: nothing sent`);
    }
  });
});
