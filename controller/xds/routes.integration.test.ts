import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1TokenReviewStatus } from '@kubernetes/client-node';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { Route } from '../../lib/xds/index.js';
import type { RunningController } from '../app.js';
import { EXTRA_POD_NAME } from '../auth/index.js';
import { controllerTarget, createPod, createService, namespace, startLab, startTestAgent, startTestController, tempDir, until, type Lab, type TestAgent } from '../fixtures.js';
import { ROUTE_CONTROLLER_NAME, type RouteParentStatus } from '../model/index.js';

/**
 * Routes end to end in-process: HTTPRoutes written to the lab's API server,
 * read by the controller's informers, pushed over the real config stream to
 * a waypoint proxy (authenticated as one: a token bound to a pod labelled
 * for the Waypoint) and to a node agent, and their status written back per
 * parent.
 */

const TOKENS = { 'node-a': 'token-a' };

describe('routes: from the API server to a waypoint proxy, and status back', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let ctl: RunningController;
  let waypoint: TestAgent;
  let agent: TestAgent;

  const route = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'shop' }, spec });
  const held = (a: TestAgent, name: string) => a.state.Route.get(name) as Route | undefined;
  const parents = (name: string): RouteParentStatus[] => ((lab.store.tryGet('httproutes', 'shop', name)?.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []);
  const condition = (name: string, i: number, type: string) => parents(name).filter((p) => p.controllerName === ROUTE_CONTROLLER_NAME)[i]?.conditions.find((c) => c.type === type);

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    const { store } = lab;
    store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
    store.patch('nodes', undefined, 'node-a', { status: { addresses: [{ type: 'InternalIP', address: '10.200.0.10' }] } }, 'merge', { subresource: 'status' });
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient', 'ambit.dev/use-waypoint': 'wp' }));
    store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec: {} });
    createPod(store, 'wp-1', { namespace: 'shop', node: 'node-a', ip: '10.244.1.30', serviceAccount: 'wp', labels: { 'ambit.dev/waypoint': 'wp', 'ambit.dev/dataplane-mode': 'none' } });
    createService(store, 'web', { namespace: 'shop', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    createService(store, 'v1', { namespace: 'shop', clusterIP: '10.96.0.11', selector: { app: 'web', v: '1' }, ports: [{ name: 'http', port: 8080 }] });
    createService(store, 'plain', { namespace: 'shop', clusterIP: '10.96.0.12', selector: { app: 'plain' }, ports: [{ port: 80 }], labels: { 'ambit.dev/use-waypoint': 'none' } });
    const reviews: Record<string, V1TokenReviewStatus> = {
      'wp-token': { authenticated: true, audiences: ['ambit-controller'], user: { username: 'system:serviceaccount:shop:wp', extra: { [EXTRA_POD_NAME]: ['wp-1'] } } },
    };
    ctl = await startTestController(lab, dir.path, { AMBIT_AGENT_TOKENS: JSON.stringify(TOKENS) }, { tokenReviewer: { review: async (t) => reviews[t] ?? { authenticated: false } } });
    await ctl.synced;
    waypoint = startTestAgent(controllerTarget(ctl), 'node-a', 'wp-token');
    agent = startTestAgent(controllerTarget(ctl), 'node-a', TOKENS['node-a']);
    await Promise.all([waypoint.conn.synced, agent.conn.synced]);
  });

  after(async () => {
    await waypoint?.stop();
    await agent?.stop();
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('an HTTPRoute reaches the waypoint serving its parent, not the node agent, and its status says so', async () => {
    lab.store.create('httproutes', route('web', { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: 'v1', port: 8080, weight: 3 }] }] }));
    await until('the waypoint holds the route', () => held(waypoint, 'HTTPRoute/shop/web') !== undefined);
    const r = held(waypoint, 'HTTPRoute/shop/web')!;
    assert.deepEqual(r.parents, [{ namespace: 'shop', name: 'web', port: 80, consumer: false }]);
    assert.deepEqual(r.rules[0]!.backends, [{ ref: { namespace: 'shop', name: 'v1', port: 8080 }, weight: 3, filters: [] }]);
    assert.ok(Number(r.createdMs) > 0, 'creationTimestamp from the API server');
    assert.equal(agent.state.Route.size, 0, 'node agents get an empty Route set');
    assert.ok(agent.conn.status().versions.Route !== '', 'and a version for it: their config is complete');

    await until('status written', () => condition('web', 0, 'Accepted') !== undefined);
    const entry = parents('web')[0]!;
    assert.deepEqual(entry.parentRef, { group: '', kind: 'Service', name: 'web', port: 80 });
    assert.deepEqual(
      entry.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
      [
        ['Accepted', 'True', 'Accepted', 1],
        ['ResolvedRefs', 'True', 'ResolvedRefs', 1],
      ],
    );
    assert.match(entry.conditions[0]!.message, /^Applied by waypoint shop\/wp to requests to Service shop\/web port 80\./);
  });

  it('an invalid update is refused in status and the waypoint keeps the last good version', async () => {
    const before = waypoint.updates.length;
    lab.store.patch('httproutes', 'shop', 'web', { spec: { rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/(a)\\1' } }], backendRefs: [{ name: 'v1', port: 8080 }] }] } }, 'merge');
    await until('Accepted=False', () => condition('web', 0, 'Accepted')?.status === 'False');
    const c = condition('web', 0, 'Accepted')!;
    assert.deepEqual([c.reason, c.observedGeneration], ['UnsupportedValue', 2]);
    assert.match(c.message, /is not a valid RE2 regular expression .*generation 1\) stays in force/);
    assert.equal(held(waypoint, 'HTTPRoute/shop/web')!.rules[0]!.backends[0]!.weight, 3, 'generation 1 in force');
    assert.equal(waypoint.updates.slice(before).filter((u) => u.type === 'Route').length, 0, 'nothing was pushed for it');
  });

  it('a route whose parent has no waypoint is pushed nowhere and says it is not in force', async () => {
    lab.store.create('httproutes', route('direct', { parentRefs: [{ group: '', kind: 'Service', name: 'plain' }], rules: [{ backendRefs: [{ name: 'gone', port: 80 }] }] }));
    await until('status written', () => condition('direct', 0, 'ResolvedRefs') !== undefined);
    assert.deepEqual([condition('direct', 0, 'Accepted')!.status, condition('direct', 0, 'Accepted')!.reason], ['False', 'NoWaypoint']);
    assert.match(condition('direct', 0, 'Accepted')!.message, /routes are applied by waypoints|Routes are applied by waypoints/);
    assert.deepEqual([condition('direct', 0, 'ResolvedRefs')!.status, condition('direct', 0, 'ResolvedRefs')!.reason], ['False', 'BackendNotFound']);
    assert.equal(held(waypoint, 'HTTPRoute/shop/direct'), undefined);
  });

  it('deleting the route takes it from the waypoint', async () => {
    lab.store.delete('httproutes', 'shop', 'web');
    await until('gone from the waypoint', () => held(waypoint, 'HTTPRoute/shop/web') === undefined);
  });
});
