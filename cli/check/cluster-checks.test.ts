import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ObjectStore, startApiServer, type ApiServer } from '../../lab/apiserver/index.js';
import { createRootCa } from '../../lib/identity/index.js';
import { kubeConfig } from '../../lib/k8s/client.js';
import { plan, runChecks } from './runner.js';
import type { AdminEndpoint, AgentProcess, MeshProcesses } from '../cluster/mesh-processes.js';
import type { CheckContext, CheckResult, Outcome, Target } from './types.js';

const NS = 'ambit-system';

/** The mesh's processes as a test wants them: controllers answering from a table, agents as listed. */
function fakeMesh(kind: 'lab' | 'chart', controllers: Record<string, Record<string, { status: number; body: unknown }>>, agents: AgentProcess[]): MeshProcesses {
  return {
    kind,
    controllers: async () =>
      Object.entries(controllers).map(
        ([name, paths]): AdminEndpoint => ({
          name,
          get: async (path) => {
            const r = paths[path];
            if (!r) throw new Error(`connect ECONNREFUSED (${name}${path})`);
            return { status: r.status, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
          },
        }),
      ),
    agents: async () => agents,
    waypoints: async () => [],
    byHand: (path) => `curl ADMIN${path}`,
  };
}

const upToDate = (node: string) => ({ node, proxy: `node/${node}`, upToDate: true, types: { workload: { ackedVersion: '3', nacked: null } } });
const healthyController = { '/ready': { status: 200, body: 'ready (pid 1)\n' }, '/debug/agents': { status: 200, body: [upToDate('node1'), upToDate('node2')] } };
/** Agents whose admin port is never read by the checks. */
const unread = (name: string) => ({ name, get: () => Promise.reject(new Error(`${name}: not read by the checks`)) });
const healthyAgents: AgentProcess[] = [
  { name: 'a1', node: 'node1', ready: true, admin: unread('a1') },
  { name: 'a2', node: 'node2', ready: true, admin: unread('a2') },
];

describe('ambit check: cluster checks against an in-test API server', () => {
  let store: ObjectStore;
  let api: ApiServer;
  let kc: KubeConfig;
  const now = Date.parse('2030-01-01T00:00:00Z');

  before(async () => {
    store = new ObjectStore();
    api = await startApiServer({ store, port: 0, token: 't' });
    kc = kubeConfig({ server: api.url, token: 't' });
    store.create('namespaces', { metadata: { name: NS } });
    for (const n of ['node1', 'node2']) store.create('nodes', { metadata: { name: n } });
    const root = createRootCa({ trustDomain: 'cluster.local', now: () => now, validityDays: 3650 });
    store.create('configmaps', { metadata: { name: 'ambit-root-ca', namespace: NS }, data: { 'root-cert.pem': root.certPem } });
  });
  after(() => api.close());

  const ctx = (kind: 'lab' | 'chart', mesh: MeshProcesses): CheckContext => {
    const target: Target = kind === 'lab' ? { kind: 'lab', name: 'test', server: api.url } : { kind: 'kubeconfig', name: 'test', server: api.url };
    return { kc, target, namespace: NS, mesh, node: undefined as never, now: () => now };
  };
  const byId = (rs: CheckResult[]) => Object.fromEntries(rs.map((r) => [r.id, r]));
  const post = (c: CheckContext) => runChecks(plan('post'), c).then(byId);

  it('a lab-shaped install passes, and the chart objects it lacks do not apply', async () => {
    const r = await post(ctx('lab', fakeMesh('lab', { controller: healthyController }, healthyAgents)));
    for (const id of ['api-server', 'ambit-crds', 'gateway-api-crds', 'controller-ready', 'trust-root', 'agent-on-every-node', 'config-acked', 'waypoints-programmed']) {
      assert.equal(r[id]!.status, 'pass', `${id}: ${r[id]!.message}`);
    }
    assert.equal(r['controller-deployment']!.status, 'skip');
    assert.match(r['controller-deployment']!.message, /not from the chart/);
    assert.equal(r['agent-daemonset']!.status, 'skip');
  });

  it('against a cluster, missing chart objects fail with a hint; present ones are judged by their status', async () => {
    const mesh = fakeMesh('chart', { 'ambit-controller-a': healthyController }, healthyAgents);
    let r = await post(ctx('chart', mesh));
    assert.equal(r['controller-deployment']!.status, 'fail');
    assert.match(r['controller-deployment']!.hint!, /helm install/);
    assert.equal(r['agent-daemonset']!.status, 'fail');

    store.create('deployments', { metadata: { name: 'ambit-controller', namespace: NS }, spec: { replicas: 2, selector: {}, template: {} } });
    store.replaceStatus('deployments', { metadata: { name: 'ambit-controller', namespace: NS }, status: { availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } });
    store.create('daemonsets', { metadata: { name: 'ambit-node-agent', namespace: NS }, spec: { selector: {}, template: {} } });
    store.replaceStatus('daemonsets', { metadata: { name: 'ambit-node-agent', namespace: NS }, status: { desiredNumberScheduled: 2, numberReady: 1 } });
    r = await post(ctx('chart', mesh));
    assert.equal(r['controller-deployment']!.status, 'warn', r['controller-deployment']!.message);
    assert.match(r['agent-daemonset']!.message, /1 of 2 agents ready/);
    assert.equal(r['agent-daemonset']!.status, 'fail');

    store.replaceStatus('deployments', { metadata: { name: 'ambit-controller', namespace: NS }, status: { availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] } });
    store.replaceStatus('daemonsets', { metadata: { name: 'ambit-node-agent', namespace: NS }, status: { desiredNumberScheduled: 2, numberReady: 2 } });
    r = await post(ctx('chart', mesh));
    assert.equal(r['controller-deployment']!.status, 'pass');
    assert.equal(r['agent-daemonset']!.status, 'pass');
  });

  it('names the node without an agent, and the agent that is not ready', async () => {
    const one = await post(ctx('lab', fakeMesh('lab', { controller: healthyController }, [healthyAgents[0]!])));
    assert.equal(one['agent-on-every-node']!.status, 'fail');
    assert.match(one['agent-on-every-node']!.message, /no agent on 1 of 2 nodes: node2/);
    const slow = await post(ctx('lab', fakeMesh('lab', { controller: healthyController }, [healthyAgents[0]!, { name: 'a2', node: 'node2', ready: false, detail: 'not ready: no config yet', admin: unread('a2') }])));
    assert.match(slow['agent-on-every-node']!.message, /node2 \(a2: not ready: no config yet\)/);
  });

  it('controller readiness: its own reason fails, an unreachable port warns with how to look by hand', async () => {
    const notReady = await post(ctx('lab', fakeMesh('lab', { c: { ...healthyController, '/ready': { status: 503, body: 'not ready (pid 7): informers have not synced' } } }, healthyAgents)));
    assert.equal(notReady['controller-ready']!.status, 'fail');
    assert.match(notReady['controller-ready']!.message, /informers have not synced/);
    const proxied = await post(ctx('chart', fakeMesh('chart', { c: { ...healthyController, '/ready': { status: 403, body: 'pods "c" is forbidden' } } }, healthyAgents)));
    assert.equal(proxied['controller-ready']!.status, 'warn');
    assert.match(proxied['controller-ready']!.hint!, /curl ADMIN\/ready/);
    const none = await post(ctx('lab', fakeMesh('lab', {}, healthyAgents)));
    assert.equal(none['controller-ready']!.status, 'fail');
    assert.equal(none['config-acked']!.status, 'warn');
  });

  it('config ACKs: a NACK fails naming it, a silent node fails, a push in flight warns, replicas are merged', async () => {
    const nack = { node: 'node2', proxy: 'node/node2', upToDate: true, types: { workload: { ackedVersion: '2', nacked: { version: '3', error: 'bad address' } } } };
    const r1 = await post(ctx('lab', fakeMesh('lab', { c: { ...healthyController, '/debug/agents': { status: 200, body: [upToDate('node1'), nack] } } }, healthyAgents)));
    assert.equal(r1['config-acked']!.status, 'fail');
    assert.match(r1['config-acked']!.message, /node\/node2 rejected workload version 3: bad address/);
    const r2 = await post(ctx('lab', fakeMesh('lab', { c: { ...healthyController, '/debug/agents': { status: 200, body: [upToDate('node1')] } } }, healthyAgents)));
    assert.equal(r2['config-acked']!.status, 'fail');
    assert.match(r2['config-acked']!.message, /no config stream from the agent of node2/);
    const r3 = await post(ctx('lab', fakeMesh('lab', { c: { ...healthyController, '/debug/agents': { status: 200, body: [upToDate('node1'), { ...upToDate('node2'), upToDate: false }] } } }, healthyAgents)));
    assert.equal(r3['config-acked']!.status, 'warn');
    const split = fakeMesh('chart', { a: { ...healthyController, '/debug/agents': { status: 200, body: [upToDate('node1')] } }, b: { ...healthyController, '/debug/agents': { status: 200, body: [upToDate('node2')] } } }, healthyAgents);
    assert.equal((await post(ctx('chart', split)))['config-acked']!.status, 'pass');
  });

  it('the trust root: a missing ConfigMap fails', async () => {
    store.delete('configmaps', NS, 'ambit-root-ca');
    const r = await post(ctx('lab', fakeMesh('lab', { controller: healthyController }, healthyAgents)));
    assert.equal(r['trust-root']!.status, 'fail');
    assert.match(r['trust-root']!.message, /no ConfigMap ambit-root-ca/);
  });

  it('waypoints: each one not Programmed is named with its reason', async () => {
    store.create('namespaces', { metadata: { name: 'shop' } });
    store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec: {} });
    store.replaceStatus('waypoints', { metadata: { name: 'wp', namespace: 'shop' }, status: { conditions: [{ type: 'Programmed', status: 'False', reason: 'Pending', message: '0 of 1 proxies ready.' }] } });
    const r = await post(ctx('lab', fakeMesh('lab', { controller: healthyController }, healthyAgents)));
    assert.equal(r['waypoints-programmed']!.status, 'fail');
    assert.match(r['waypoints-programmed']!.message, /shop\/wp \(Pending: 0 of 1 proxies ready\.\)/);
  });

  it('pre-install on a server without SelfSubjectAccessReview: skipped in the lab, a warning with kubectl auth can-i elsewhere', async () => {
    const pre = plan('pre').filter((c) => c.scope === 'cluster');
    const lab = byId(await runChecks(pre, ctx('lab', fakeMesh('lab', {}, []))));
    assert.equal(lab['install-permissions']!.status, 'skip');
    const cluster = byId(await runChecks(pre, ctx('chart', fakeMesh('chart', {}, []))));
    assert.equal(cluster['install-permissions']!.status, 'warn');
    assert.match(cluster['install-permissions']!.hint!, /kubectl auth can-i/);
  });
});

/**
 * An API server that answers only what the permission check asks:
 * namespaces (404 unless listed) and SelfSubjectAccessReviews (denied for the
 * resources given), as kube-apiserver would for a user with narrower RBAC.
 */
function accessServer(denied: Set<string>, namespaces: Set<string>): Promise<{ url: string; server: Server; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && ns) {
      return namespaces.has(ns[1]!) ? send(200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns[1] } }) : send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    }
    if (req.method === 'POST' && req.url?.startsWith('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')) {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const review = JSON.parse(body) as { spec: { resourceAttributes: { resource: string; namespace?: string } } };
        const a = review.spec.resourceAttributes;
        asked.push(`${a.resource}${a.namespace ? `@${a.namespace}` : ''}`);
        send(201, { ...review, status: { allowed: !denied.has(a.resource) } });
      });
      return;
    }
    send(404, { kind: 'Status', code: 404, message: `not served: ${req.url}` });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, asked })));
}

describe('ambit check --pre: permissions to install', () => {
  const check = plan('pre').find((c) => c.id === 'install-permissions')!;
  const run = async (denied: string[], namespaces: string[]): Promise<{ outcome: Outcome; asked: string[] }> => {
    const s = await accessServer(new Set(denied), new Set(namespaces));
    try {
      const c = { kc: kubeConfig({ server: s.url }), target: { kind: 'kubeconfig', name: 'x', server: s.url }, namespace: NS } as CheckContext;
      return { outcome: await check.run(c), asked: s.asked };
    } finally {
      s.server.close();
    }
  };

  it('passes when every kind the chart creates is allowed, asking namespaced kinds in the target namespace', async () => {
    const { outcome, asked } = await run([], [NS]);
    assert.equal(outcome.status, 'pass');
    assert.ok(asked.includes('daemonsets@ambit-system'));
    assert.ok(asked.includes('customresourcedefinitions'));
    assert.ok(!asked.includes('namespaces'), 'the namespace exists: no need to create it');
  });

  it('fails naming what is denied, and asks for namespaces only when --create-namespace would create one', async () => {
    const { outcome, asked } = await run(['clusterroles', 'namespaces'], []);
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.message, /namespaces, clusterroles\.rbac\.authorization\.k8s\.io/);
    assert.match(outcome.hint!, /kubectl auth can-i create namespaces/);
    assert.ok(asked.includes('namespaces'));
  });
});
