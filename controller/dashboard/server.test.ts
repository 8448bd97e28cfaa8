import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningController } from '../app.js';
import { authorizationPolicy, createPod, createService, LAB_TOKEN, namespace, startLab, startTestController, syncEndpointSlices, tempDir, trafficPolicy, until, type Lab } from '../fixtures.js';
import { parseWeightChange, weightPatch } from './canary.js';
import { routeView } from './views.js';

const ROUTE = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'echo-split', namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 80 }],
    rules: [{ backendRefs: [{ name: 'echo-v1', port: 80, weight: 90 }, { name: 'echo-v2', port: 80, weight: 10 }] }],
  },
};

/** The dashboard's JSON API and pages on a real controller (admin port 0) against the lab's API server. */
describe('dashboard API', () => {
  let lab: Lab;
  let ctl: RunningController;
  let dir: { remove(): Promise<void>; path: string };
  let base: string;
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as any) : await res.text() };
  };
  const patch = async (body: unknown, token?: string, route = 'HTTPRoute/shop/echo-split') => {
    const res = await fetch(`${base}/ui/api/routes/${route}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const storedWeights = () => ((lab.store.get('httproutes', 'shop', 'echo-split') as any).spec.rules[0].backendRefs as { weight: number }[]).map((b) => b.weight);

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    const { store } = lab;
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient', 'ambit.dev/use-waypoint': 'wp' }));
    store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec: {} });
    createPod(store, 'echo-v1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', labels: { app: 'echo', version: 'v1' } });
    createPod(store, 'echo-v2', { namespace: 'shop', node: 'node-a', ip: '10.0.1.6', labels: { app: 'echo', version: 'v2' } });
    for (const [name, selector] of [['echo', { app: 'echo' }], ['echo-v1', { app: 'echo', version: 'v1' }], ['echo-v2', { app: 'echo', version: 'v2' }]] as const) {
      createService(store, name, { namespace: 'shop', clusterIP: `10.96.0.${10 + name.length}`, selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
      syncEndpointSlices(store, 'shop', name);
    }
    store.create('httproutes', ROUTE);
    store.create('trafficpolicies', trafficPolicy('echo-retries', { targetRefs: [{ kind: 'Service', name: 'echo' }], retries: { attempts: 2 } }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('deny-posts', { targetRefs: [{ kind: 'Service', name: 'echo' }], action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }, 'shop'));
    store.create('authorizationpolicies', authorizationPolicy('broken', { action: 'NOPE' }, 'shop'));
    ctl = await startTestController(lab, dir.path, { AMBIT_DASHBOARD_SCRAPE_INTERVAL: '0s' });
    await ctl.synced;
    base = `http://127.0.0.1:${ctl.adminPort}`;
    await until('the route is in the model', async () => (await get('/ui/api/routes')).body.length === 1);
  });

  after(async () => {
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('serves the pages as static files, no build step, and nothing outside its folder', async () => {
    const index = await get('/ui/');
    assert.equal(index.status, 200);
    assert.match(index.type!, /text\/html/);
    assert.match(index.body, /<script type="module" src="app.js">/);
    assert.match((await get('/ui/app.js')).type!, /text\/javascript/);
    assert.equal((await fetch(`${base}/ui`, { redirect: 'manual' })).status, 308);
    assert.equal((await get('/ui/..%2Fserver.js')).status, 404);
    assert.equal((await get('/ui/nope.js')).status, 404);
  });

  it('lists Services with their waypoint, endpoints, routes and TrafficPolicy', async () => {
    const { body } = await get('/ui/api/services');
    const echo = body.find((s: any) => s.name === 'echo');
    assert.deepEqual(echo, { namespace: 'shop', name: 'echo', clusterIP: '10.96.0.14', ports: [80], waypoint: 'shop/wp', endpoints: 2, readyEndpoints: 2, routes: 1, trafficPolicy: 'shop/echo-retries' });
  });

  it('shows a Service page with its routes (weights as written), policies, TrafficPolicy and endpoints', async () => {
    const { status, body } = await get('/ui/api/services/shop/echo');
    assert.equal(status, 200);
    assert.deepEqual(body.waypoint, { namespace: 'shop', name: 'wp', state: 'not-running' });
    assert.deepEqual(body.routes[0].rules[0].backends.map((b: any) => [b.name, b.weight]), [['echo-v1', 90], ['echo-v2', 10]]);
    assert.equal(body.trafficPolicy.name, 'echo-retries');
    assert.deepEqual(body.policies.map((p: any) => p.name).sort(), ['deny-posts']);
    assert.deepEqual(body.endpoints.map((e: any) => e.pod).sort(), ['shop/echo-v1', 'shop/echo-v2']);
    assert.deepEqual(body.traffic, []);
    assert.equal((await get('/ui/api/services/shop/nope')).status, 404);
  });

  it('lists policies with their status conditions and rejections', async () => {
    await until('the status writer has written Accepted', async () => (await get('/ui/api/policies')).body.find((p: any) => p.name === 'deny-posts')?.conditions.length > 0);
    const list = (await get('/ui/api/policies')).body;
    const broken = list.find((p: any) => p.name === 'broken');
    assert.equal(broken.accepted, false);
    assert.match(broken.problems.join(), /spec.action/);
    const deny = list.find((p: any) => p.name === 'deny-posts');
    assert.equal(deny.appliesTo, 'targetRefs: Service/echo');
    assert.equal(deny.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
  });

  it('answers the graph for the offered windows only, and 404 for unknown APIs', async () => {
    const g = await get('/ui/api/graph?window=10');
    assert.deepEqual(g.body, { windowSeconds: 10, nodes: [], edges: [] });
    assert.equal((await get('/ui/api/graph?window=7')).status, 400);
    assert.equal((await get('/ui/api/nope')).status, 404);
    assert.deepEqual(await get('/ui/api/proxies'), { status: 200, type: 'application/json', body: [] });
    const certs = (await get('/ui/api/certificates')).body;
    assert.equal(certs.ca.trustBundle.length, 1);
  });

  it('is read-only without a token: no write is attempted', async () => {
    const r = await patch({ rule: 0, weights: [{ name: 'echo-v1', weight: 50 }, { name: 'echo-v2', weight: 50 }] });
    assert.equal(r.status, 401);
    assert.match(r.body.error, /read-only/);
    assert.deepEqual(storedWeights(), [90, 10]);
    assert.equal((await fetch(`${base}/ui/api/services`, { method: 'POST' })).status, 405);
  });

  it("sends the change as the token's holder: the API server refuses a token it does not accept", async () => {
    const r = await patch({ rule: 0, weights: [{ name: 'echo-v1', weight: 50 }, { name: 'echo-v2', weight: 50 }] }, 'not-a-valid-token');
    assert.equal(r.status, 401);
    assert.match(r.body.error, /API server answered 401/);
    assert.deepEqual(storedWeights(), [90, 10]);
  });

  it('refuses weights that do not fit the rule before sending anything', async () => {
    for (const [body, why] of [
      [{ rule: 3, weights: [] }, /rule 3 does not exist/],
      [{ rule: 0, weights: [{ name: 'echo-v1', weight: 50 }] }, /has 2 backends/],
      [{ rule: 0, weights: [{ name: 'echo-v2', weight: 50 }, { name: 'echo-v1', weight: 50 }] }, /backend 0 of rule 0 is echo-v1/],
      [{ rule: 0, weights: [{ name: 'echo-v1', weight: 0.5 }, { name: 'echo-v2', weight: 50 }] }, /integer/],
      [{ rule: 0, weights: [{ name: 'echo-v1', weight: 0 }, { name: 'echo-v2', weight: 0 }] }, /above 0/],
    ] as const) {
      const r = await patch(body, LAB_TOKEN);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error, why);
    }
    assert.equal((await patch({}, LAB_TOKEN, 'GRPCRoute/shop/echo-split')).status, 400);
    assert.equal((await patch({}, LAB_TOKEN, 'HTTPRoute/shop/nope')).status, 404);
  });

  it('with a token the API server accepts, changes the weights and the model follows', async () => {
    const r = await patch({ rule: 0, weights: [{ name: 'echo-v1', weight: 30 }, { name: 'echo-v2', weight: 70 }] }, LAB_TOKEN);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.route.rules[0].backends.map((b: any) => b.weight), [30, 70]);
    assert.deepEqual(storedWeights(), [30, 70]);
    await until('the model has the new weights', async () => (await get('/ui/api/services/shop/echo')).body.routes[0].rules[0].backends[1].weight === 70);
  });
});

describe('weight changes', () => {
  const view = routeView('HTTPRoute', ROUTE, []);
  it('tests each backend name before setting its weight (a route edited meanwhile is refused by the API server)', () => {
    const c = parseWeightChange({ rule: 0, weights: [{ name: 'echo-v1', weight: 1 }, { name: 'echo-v2', weight: 3 }] }, view);
    assert.ok(c.ok);
    assert.deepEqual(weightPatch(c.value), [
      { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'echo-v1' },
      { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'echo-v2' },
      { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 1 },
      { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 3 },
    ]);
  });
  it('fills the Gateway API default weight of 1', () => {
    const v = routeView('HTTPRoute', { ...ROUTE, spec: { ...ROUTE.spec, rules: [{ backendRefs: [{ name: 'a' }, { name: 'b', weight: 0 }] }] } }, []);
    assert.deepEqual(v.rules[0]!.backends.map((b) => b.weight), [1, 0]);
    assert.equal(parseWeightChange(null, v).ok, false);
  });
});
