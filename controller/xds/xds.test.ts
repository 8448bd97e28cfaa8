import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service, Workload } from '../../lib/xds/index.js';
import type { RunningController } from '../app.js';
import {
  authorizationPolicy,
  createPod,
  createService,
  namespace,
  peerAuthentication,
  startLab,
  controllerTarget,
  startTestAgent,
  startTestController,
  syncEndpointSlices,
  tempDir,
  trafficPolicy,
  until,
  type Lab,
  type TestAgent,
} from '../fixtures.js';

interface AgentTypeStatus {
  ackedVersion: string | null;
  nacked: { version: string; error: string } | null;
  lastNack: { version: string; error: string } | null;
}
type AgentStatus = { node: string; types: Record<string, AgentTypeStatus> };

describe('config stream (controller <-> agent client, lab API server)', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let ctl: RunningController;
  const agents: TestAgent[] = [];
  const agentStatus = (node: string) => (ctl.xds.agents() as AgentStatus[]).find((a) => a.node === node);
  const agent = (node: string, token: string | undefined, backoffMs?: number) => {
    const a = startTestAgent(controllerTarget(ctl), node, token, backoffMs === undefined ? {} : { backoffMs });
    agents.push(a);
    return a;
  };

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    const { store } = lab;
    store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    createPod(store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', serviceAccount: 'web', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    createPod(store, 'db-1', { namespace: 'shop', node: 'node-b', ip: '10.0.2.5', serviceAccount: 'db', labels: { app: 'db' } });
    createService(store, 'web', { namespace: 'shop', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    syncEndpointSlices(store, 'shop', 'web');
    store.create('authorizationpolicies', authorizationPolicy('allow-web', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/shop/sa/frontend'] } }], to: [{ operation: { ports: ['8080'] } }] }] }, 'shop'));
    store.create('peerauthentications', peerAuthentication('strict', { mtls: { mode: 'STRICT' } }, 'shop'));
    ctl = await startTestController(lab, dir.path);
    await ctl.synced;
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('an agent receives the whole config when it connects', async () => {
    const a = agent('node-a', 'token-a');
    await a.conn.synced;
    const web1 = lab.store.get('pods', 'shop', 'web-1');
    const w = a.state.Workload.get(web1.metadata.uid!) as Workload;
    assert.equal(w.name, 'web-1');
    assert.equal(w.ip, '10.0.1.5');
    assert.equal(w.node, 'node-a');
    assert.equal(w.meshed, true);
    assert.equal(w.identity, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.equal(a.state.Workload.size, 2);
    const svc = a.state.Service.get('shop/web') as Service;
    assert.equal(svc.clusterIp, '10.96.0.10');
    assert.deepEqual(svc.ports.map((p) => [p.port, p.targetPortName]), [[80, 'http']]);
    assert.deepEqual(svc.endpoints.map((e) => ({ uid: e.workloadUid, address: e.address, ports: e.ports })), [{ uid: web1.metadata.uid, address: '10.0.1.5', ports: [{ servicePort: 80, targetPort: 8080 }] }]);
    assert.ok(a.state.AuthorizationPolicy.has('shop/allow-web'));
    assert.ok(a.state.PeerAuthentication.has('shop/strict'));
    const st = agentStatus('node-a');
    assert.ok(st, '/debug/agents lists the agent');
    assert.deepEqual(Object.values(a.conn.status().versions).every((v) => v !== ''), true);
  });

  it('after a change only the changed resources are sent', async () => {
    const a = agents[0]!;
    const seen = a.updates.length;
    createPod(lab.store, 'web-2', { namespace: 'shop', node: 'node-b', ip: '10.0.2.7', serviceAccount: 'web', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    syncEndpointSlices(lab.store, 'shop', 'web');
    const uid = lab.store.get('pods', 'shop', 'web-2').metadata.uid!;
    await until('the new endpoint and workload', () => (a.state.Service.get('shop/web') as Service).endpoints.length === 2 && (a.state.Workload.get(uid) as Workload | undefined)?.ip === '10.0.2.7');
    const fresh = a.updates.slice(seen);
    assert.ok(fresh.length > 0);
    for (const u of fresh) {
      assert.deepEqual(u.removals, []);
      if (u.type === 'Workload') assert.deepEqual(u.upserts, [uid]);
      else if (u.type === 'Service') assert.deepEqual(u.upserts, ['shop/web']);
      else assert.fail(`unexpected ${u.type} update ${JSON.stringify(u)}`);
    }
    // A deletion is sent as a removal.
    const seen2 = a.updates.length;
    lab.store.delete('peerauthentications', 'shop', 'strict');
    await until('the removal', () => !a.state.PeerAuthentication.has('shop/strict'));
    assert.deepEqual(a.updates.slice(seen2), [{ type: 'PeerAuthentication', upserts: [], removals: ['shop/strict'] }]);
  });

  it("a TrafficPolicy reaches the agents as its Service's load balancer, and only that Service is sent", async () => {
    const a = agents[0]!;
    assert.equal((a.state.Service.get('shop/web') as Service).lbPolicy, 'ROUND_ROBIN');
    const seen = a.updates.length;
    lab.store.create('trafficpolicies', trafficPolicy('web-lb', { targetRefs: [{ kind: 'Service', name: 'web' }], loadBalancer: { type: 'LeastRequest' } }, 'shop'));
    await until('the load balancer', () => (a.state.Service.get('shop/web') as Service).lbPolicy === 'LEAST_REQUEST');
    assert.deepEqual(a.updates.slice(seen), [{ type: 'Service', upserts: ['shop/web'], removals: [] }]);
    lab.store.delete('trafficpolicies', 'shop', 'web-lb');
    await until('back to round robin', () => (a.state.Service.get('shop/web') as Service).lbPolicy === 'ROUND_ROBIN');
  });

  it('a NACKed version is recorded and reported, and not resent until the model changes again', async () => {
    const a = agents[0]!;
    a.reject = (u) => (u.type === 'Service' ? 'cannot program services today' : undefined);
    createService(lab.store, 'api', { namespace: 'shop', clusterIP: '10.96.0.11', selector: { app: 'api' }, ports: [{ port: 9090 }] });
    await until('the NACK is recorded', () => agentStatus('node-a')?.types.Service?.nacked?.error === 'cannot program services today');
    assert.equal(a.state.Service.has('shop/api'), false, 'the agent kept its previous state');
    const nackedServiceUpdates = a.updates.filter((u) => u.type === 'Service').length;

    // Reported on the admin port and in metrics.
    const debug = (await (await fetch(`http://127.0.0.1:${ctl.adminPort}/debug/agents`)).json()) as AgentStatus[];
    assert.equal(debug.find((d) => d.node === 'node-a')?.types.Service?.nacked?.error, 'cannot program services today');
    const metrics = await (await fetch(`http://127.0.0.1:${ctl.adminPort}/metrics`)).text();
    assert.match(metrics, /ambit_xds_nacks_total\{type="Service"\} 1/);

    // An unrelated change is pushed, the NACKed Service version is not: once everything else is acknowledged, the controller is done.
    lab.store.create('peerauthentications', peerAuthentication('permissive-web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'PERMISSIVE' } }, 'shop'));
    await until('the unrelated change', () => a.state.PeerAuthentication.has('shop/permissive-web'));
    await until('the controller converged', () => ctl.xds.converged());
    assert.equal(a.updates.filter((u) => u.type === 'Service').length, nackedServiceUpdates, 'the rejected version was not sent again');

    // The model changes again: the next push carries the rejected change with the new one.
    a.reject = undefined;
    createService(lab.store, 'cart', { namespace: 'shop', clusterIP: '10.96.0.12', selector: { app: 'cart' }, ports: [{ port: 80 }] });
    await until('both services', () => a.state.Service.has('shop/api') && a.state.Service.has('shop/cart'));
    const last = a.updates.filter((u) => u.type === 'Service').at(-1)!;
    assert.deepEqual(last.upserts, ['shop/api', 'shop/cart']);
    await until('the NACK is cleared by the ACK', () => agentStatus('node-a')?.types.Service?.nacked === null);
    assert.equal(agentStatus('node-a')?.types.Service?.lastNack?.error, 'cannot program services today');
  });

  it('refuses an agent without a token, with an unknown token, or asking for another node', async () => {
    const cases: [string, string | undefined, string][] = [
      ['node-a', undefined, 'UNAUTHENTICATED'],
      ['node-a', 'not-a-token', 'UNAUTHENTICATED'],
      ['node-b', 'token-a', 'PERMISSION_DENIED'],
    ];
    for (const [node, token, code] of cases) {
      const a = agent(node, token, 60_000);
      await until(`${code} for ${node}/${token}`, () => a.conn.status().lastError?.startsWith(code) ?? false);
      assert.equal(a.updates.length, 0);
      await a.stop();
    }
    assert.equal(agentStatus('node-b'), undefined);
  });

  it('serves two agents of one node side by side (a rolling update), and a third stream replaces the oldest', async () => {
    const streams = () => (ctl.xds.agents() as AgentStatus[]).filter((a) => a.node === 'node-b').length;
    const old = agent('node-b', 'token-b', 60_000);
    await old.conn.synced;
    const successor = agent('node-b', 'token-b', 60_000);
    await successor.conn.synced;
    assert.equal(streams(), 2, 'both stay connected: neither knocks the other off');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([old.conn.status().state, successor.conn.status().state], ['connected', 'connected']);
    lab.store.create('peerauthentications', peerAuthentication('both-see-it', { mtls: { mode: 'PERMISSIVE' } }, 'shop'));
    await until('both get the change', () => old.state.PeerAuthentication.has('shop/both-see-it') && successor.state.PeerAuthentication.has('shop/both-see-it'));
    const third = agent('node-b', 'token-b', 60_000);
    await third.conn.synced;
    await until('the oldest stream was replaced', () => old.conn.status().lastError?.startsWith('ABORTED') ?? false);
    assert.equal(successor.conn.status().state, 'connected');
    for (const a of [old, successor, third]) await a.stop();
    lab.store.delete('peerauthentications', 'shop', 'both-see-it');
  });

  it('an agent reconnects after the controller restarts and resumes without a resend', async () => {
    const a = agent('node-b', 'token-b');
    await a.conn.synced;
    const versions = a.conn.status().versions;
    const seen = a.updates.length;
    const port = ctl.grpcPort;
    await ctl.stop();
    await until('the agent notices', () => a.conn.status().state !== 'connected');
    ctl = await startTestController(lab, dir.path, { AMBIT_GRPC_PORT: String(port) });
    await ctl.synced;
    await until('the agent resumed', () => {
      const st = agentStatus('node-b');
      return st !== undefined && Object.entries(versions).every(([t, v]) => st.types[t]?.ackedVersion === v);
    });
    assert.equal(a.updates.length, seen, 'nothing was resent: the versions matched');
    assert.equal(a.conn.status().state, 'connected');
    assert.ok(a.conn.status().connects >= 2);

    // And changes flow again.
    createPod(lab.store, 'db-2', { namespace: 'shop', node: 'node-a', ip: '10.0.1.9', serviceAccount: 'db', labels: { app: 'db' } });
    const uid = lab.store.get('pods', 'shop', 'db-2').metadata.uid!;
    await until('the new pod after the restart', () => (a.state.Workload.get(uid) as Workload | undefined)?.ip === '10.0.1.9');
  });
});
