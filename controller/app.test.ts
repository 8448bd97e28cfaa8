import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1TokenReviewStatus } from '@kubernetes/client-node';
import type { RunningController } from './app.js';
import { EXTRA_POD_NAME } from './auth/index.js';
import { controllerTarget, createPod, namespace, startLab, startTestAgent, startTestController, tempDir, until, type Lab, type TestAgent } from './fixtures.js';

describe('controller process (TokenReview auth, admin port)', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let ctl: RunningController;
  const agents: TestAgent[] = [];
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${ctl.adminPort}${path}`);
    return { code: res.status, text: await res.text() };
  };

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    lab.store.create('namespaces', namespace('ambit-system'));
    createPod(lab.store, 'agent-abc', { namespace: 'ambit-system', node: 'node-a', ip: '192.168.0.2', serviceAccount: 'ambit-node-agent' });
    const reviews: Record<string, V1TokenReviewStatus> = {
      // As kube-apiserver answers: the audiences the review asked for (the default, ambit-controller) that the token carries.
      'sa-token': { authenticated: true, audiences: ['ambit-controller'], user: { username: 'system:serviceaccount:ambit-system:ambit-node-agent', extra: { [EXTRA_POD_NAME]: ['agent-abc'] } } },
    };
    ctl = await startTestController(lab, dir.path, { AMBIT_AGENT_TOKENS: '' }, { tokenReviewer: { review: async (token) => reviews[token] ?? { authenticated: false } } });
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('is healthy at once and ready once synced', async () => {
    assert.equal((await get('/healthz')).code, 200);
    await ctl.synced;
    assert.deepEqual(await get('/ready'), { code: 200, text: `ready (pid ${process.pid})\n` });
    assert.equal((await get('/nope')).code, 404);
  });

  it('authenticates an agent by its pod-bound service account token, as the node its pod runs on', async () => {
    const a = startTestAgent(controllerTarget(ctl), 'node-a', 'sa-token');
    agents.push(a);
    await a.conn.synced;
    assert.equal(a.state.Workload.size, 1);
    const wrong = startTestAgent(controllerTarget(ctl), 'node-b', 'sa-token', { backoffMs: 60_000 });
    agents.push(wrong);
    await until('refused', () => wrong.conn.status().lastError?.startsWith('PERMISSION_DENIED') ?? false);
  });

  it('serves metrics and the model as JSON', async () => {
    const m = await get('/metrics');
    assert.match(m.text, /^ambit_xds_connected_agents 1$/m);
    assert.match(m.text, /^ambit_model_resources\{type="Workload"\} 1$/m);
    assert.match(m.text, /^ambit_xds_pushes_total\{type="Service"\} \d+$/m);
    assert.match(m.text, /^ambit_xds_agent_refusals_total\{reason="wrong_node"\} 1$/m);
    const model = JSON.parse((await get('/debug/model')).text) as { counts: { pods: number }; resources: { Workload: { name: string }[] } };
    assert.equal(model.counts.pods, 1);
    assert.deepEqual(model.resources.Workload.map((w) => w.name), ['agent-abc']);
    const ca = JSON.parse((await get('/debug/ca')).text) as { trustBundle: unknown[]; published: string; serving: { identity: string; serial: string } };
    assert.equal(ca.trustBundle.length, 1);
    assert.equal(ca.published, 'ambit-system/ambit-root-ca');
    assert.deepEqual([ca.serving.identity, ca.serving.serial], ['spiffe://cluster.local/ns/ambit-system/sa/ambit-controller', ctl.serving!.current().serial]);
    const agentsJson = JSON.parse((await get('/debug/agents')).text) as { node: string; subject: string }[];
    assert.deepEqual(agentsJson.map((x) => [x.node, x.subject]), [['node-a', 'system:serviceaccount:ambit-system:ambit-node-agent']]);
  });
});
