import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer } from '../../lab/apiserver/index.js';
import { authorizationPolicy, conditions, createPod, LAB_TOKEN, namespace, startLab, startModelHarness, until, type Lab, type ModelHarness } from '../fixtures.js';

/**
 * The controller's informers, model and status writer through an API server
 * outage: the server goes away (every watch drops), objects change meanwhile,
 * and so many that the informers' resourceVersions fall out of the server's
 * watch history, so their re-watch meets 410 Gone. The controller must relist
 * and converge on what the server holds, with nothing lost or left over.
 */

describe('the controller through an API server outage with 410 Gone on return', () => {
  let lab: Lab;
  let harness: ModelHarness;
  const workloadNames = () => [...harness.model.resources('Workload').values()].map((w) => w.name).sort();
  const accepted = (name: string) => conditions(lab.store, 'authorizationpolicies', 'shop', name).find((c) => c.type === 'Accepted')?.status;

  before(async () => {
    lab = await startLab({ historySize: 20 });
    lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    createPod(lab.store, 'stays', { namespace: 'shop', node: 'n1', ip: '10.0.1.5', labels: { app: 'web' } });
    createPod(lab.store, 'goes', { namespace: 'shop', node: 'n1', ip: '10.0.1.6', labels: { app: 'web' } });
    lab.store.create('authorizationpolicies', authorizationPolicy('before', { selector: { matchLabels: { app: 'web' } }, rules: [{}] }, 'shop'));
    harness = await startModelHarness(lab);
    await until('status of the first policy', () => accepted('before') === 'True');
  });

  after(async () => {
    await harness?.stop();
    await lab?.api.close(); // the server started in the test, not the one lab.close() knows
  });

  it('relists after the outage: deletions, changes and additions made meanwhile all arrive, and status is written again', async () => {
    assert.deepEqual(workloadNames(), ['goes', 'stays']);
    const port = lab.api.port;
    await lab.api.close();

    lab.store.delete('pods', 'shop', 'goes');
    createPod(lab.store, 'new', { namespace: 'shop', node: 'n2', ip: '10.0.1.7', labels: { app: 'web' } });
    lab.store.patch('pods', 'shop', 'stays', { metadata: { labels: { app: 'web', version: 'v2' } } }, 'merge');
    lab.store.create('authorizationpolicies', authorizationPolicy('during', { selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{ to: [{ operation: { ports: ['9000'] } }] }] }, 'shop'));
    // Enough writes to push every informer's resourceVersion out of the history.
    for (let i = 0; i < 30; i++) lab.store.create('configmaps', { metadata: { name: `filler-${i}`, namespace: 'shop' } });
    const staleRv = String(Number(lab.store.list('pods').resourceVersion) - 31);
    assert.throws(() => lab.store.watch('pods', { resourceVersion: staleRv }, () => {}), /too old resource version/);

    // Long enough that the informers' re-watches find nothing listening and back off.
    await new Promise((r) => setTimeout(r, 1000));
    lab.api = await startApiServer({ store: lab.store, host: '127.0.0.1', port, token: LAB_TOKEN });
    // The informers retry with backoff (at most 10 s apart), relist on 410 and converge.
    await until('the model holds what the server holds', () => JSON.stringify(workloadNames()) === JSON.stringify(['new', 'stays']), 30_000);
    const stays = [...harness.model.resources('Workload').values()].find((w) => w.name === 'stays');
    assert.equal((stays as { labels?: Record<string, string> } | undefined)?.labels?.version, 'v2');
    // Each kind has its own informer, back at its own time.
    await until('the policy made during the outage', () => harness.model.resources('AuthorizationPolicy').has('shop/during'), 30_000);
    await until('status of the policy made during the outage', () => accepted('during') === 'True', 30_000);

    // And they watch again: a change now arrives without another outage.
    lab.store.delete('pods', 'shop', 'new');
    await until('a change after the outage', () => JSON.stringify(workloadNames()) === JSON.stringify(['stays']));
  });
});
