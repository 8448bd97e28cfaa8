import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../lab/apiserver/index.js';
import { CONTROLLER_NAMESPACE, namespace, startLab, until, type Lab } from '../fixtures.js';
import { configMapBundleSink } from './publish.js';

/** The trust bundle ConfigMap through client-node against the lab's API server (which collects orphans as the garbage collector does). */
describe('the trust bundle ConfigMap', () => {
  let lab: Lab;
  const bundle = () => lab.store.tryGet('configmaps', CONTROLLER_NAMESPACE, 'ambit-root-ca') as (KubeObject & { data?: Record<string, string> }) | undefined;
  const deployment = () =>
    lab.store.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ambit-controller', namespace: CONTROLLER_NAMESPACE },
      spec: { selector: { matchLabels: { app: 'c' } }, template: { metadata: { labels: { app: 'c' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });

  before(async () => {
    lab = await startLab();
    lab.store.create('namespaces', namespace(CONTROLLER_NAMESPACE));
  });
  after(() => lab.close());

  it('has no owner when the controller runs outside a Deployment', async () => {
    const sink = configMapBundleSink(lab.kc, CONTROLLER_NAMESPACE, 'ambit-root-ca');
    assert.equal(await sink.write('PEM-1'), 'created');
    assert.equal(bundle()?.data?.['root-cert.pem'], 'PEM-1');
    assert.equal(bundle()?.metadata.ownerReferences, undefined);
    assert.equal(await sink.write('PEM-1'), 'unchanged');
  });

  it("is owned by the controller's Deployment, taken over on the next write, and goes with it", async () => {
    const owner = deployment();
    const sink = configMapBundleSink(lab.kc, CONTROLLER_NAMESPACE, 'ambit-root-ca', 'ambit-controller');
    assert.equal(await sink.write('PEM-1'), 'updated', 'the same bundle without its owner is written again');
    assert.deepEqual(bundle()?.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'ambit-controller', uid: owner.metadata.uid }]);
    assert.equal(await sink.write('PEM-1'), 'unchanged');
    lab.store.delete('deployments', CONTROLLER_NAMESPACE, 'ambit-controller');
    assert.equal(bundle(), undefined, 'the garbage collector took it with its owner');
  });

  it('written again by a replica still stopping after its Deployment was deleted, it does not stay', async () => {
    const owner = deployment();
    const sink = configMapBundleSink(lab.kc, CONTROLLER_NAMESPACE, 'ambit-root-ca', 'ambit-controller');
    await sink.write('PEM-2');
    // The replica read its owner just before helm deleted it, and writes after.
    const stale = structuredClone(bundle()!);
    lab.store.delete('deployments', CONTROLLER_NAMESPACE, 'ambit-controller');
    lab.store.create('configmaps', { ...stale, metadata: { name: 'ambit-root-ca', namespace: CONTROLLER_NAMESPACE, ownerReferences: stale.metadata.ownerReferences } });
    assert.equal(bundle()?.metadata.ownerReferences?.[0]?.uid, owner.metadata.uid, 'the write is accepted');
    await until('the orphan is collected', () => bundle() === undefined);
    // With no Deployment at all it is written without an owner, and stays.
    assert.equal(await sink.write('PEM-2'), 'created');
    assert.equal(bundle()?.metadata.ownerReferences, undefined);
  });
});
