import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { RunningController } from '../app.js';
import { namespace, publishedBundle, startLab, startTestController, tempDir, until, type Lab } from '../fixtures.js';

/**
 * The controller against the lab's API server, through @kubernetes/client-node: the trust
 * bundle it publishes in its own namespace is kept beside every Waypoint (an informer on the
 * ConfigMaps of that name in all namespaces, selected by metadata.name), and a Waypoint's
 * Deployment mounts it from there.
 */
describe('the trust bundle beside the Waypoints, against the lab API server', () => {
  let lab: Lab;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let ctl: RunningController;
  const copy = (ns: string) => lab.store.tryGet('configmaps', ns, 'ambit-root-ca') as (KubeObject & { data?: Record<string, string> }) | undefined;
  const waypoint = (ns: string, name: string): KubeObject => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name, namespace: ns }, spec: {} });

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    for (const ns of ['shop', 'books']) lab.store.create('namespaces', namespace(ns));
    ctl = await startTestController(lab, dir.path);
    await ctl.synced;
  });

  after(async () => {
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it("copies the published bundle to a Waypoint's namespace, where its Deployment mounts it", async () => {
    const wp = lab.store.create('waypoints', waypoint('shop', 'wp'));
    await until('the copy', () => copy('shop') !== undefined && lab.store.tryGet('deployments', 'shop', 'wp') !== undefined);
    assert.equal(copy('shop')!.data?.['root-cert.pem'], publishedBundle(lab.store));
    assert.equal(copy('shop')!.data?.['root-cert.pem'], ctl.bundle.rootPem);
    assert.deepEqual(copy('shop')!.metadata.ownerReferences, [{ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', name: 'wp', uid: wp.metadata.uid }]);
    const pod = (lab.store.tryGet('deployments', 'shop', 'wp') as unknown as { spec: { template: { spec: { volumes: { configMap?: { name: string } }[] } } } }).spec.template.spec;
    assert.ok(pod.volumes.some((v) => v.configMap?.name === 'ambit-root-ca'));
    assert.equal(copy('books'), undefined, 'none where no Waypoint is');
  });

  it('puts an edited copy back', async () => {
    const cm = copy('shop')!;
    lab.store.replace('configmaps', { ...cm, data: { 'root-cert.pem': 'not a certificate' } });
    await until('put back', () => copy('shop')?.data?.['root-cert.pem'] === ctl.bundle.rootPem);
  });

  it('the copy goes with the last Waypoint of its namespace: by the garbage collector, or by the controller where nothing collects it', async () => {
    lab.store.create('waypoints', waypoint('shop', 'wp2'));
    await until('two owners', () => copy('shop')?.metadata.ownerReferences?.length === 2);
    lab.store.delete('waypoints', 'shop', 'wp');
    await until('one owner', () => copy('shop')?.metadata.ownerReferences?.length === 1);
    assert.equal(copy('shop')!.metadata.ownerReferences![0]!.name, 'wp2');
    // Deleted while no garbage collector runs: the copy still names it.
    lab.store.garbageCollector = false;
    try {
      lab.store.delete('waypoints', 'shop', 'wp2');
      await until('the copy is deleted', () => copy('shop') === undefined);
    } finally {
      lab.store.garbageCollector = true;
    }

    lab.store.create('waypoints', waypoint('books', 'wp'));
    await until('a copy in books', () => copy('books') !== undefined);
    lab.store.delete('waypoints', 'books', 'wp');
    await until('collected', () => copy('books') === undefined);
    assert.ok(publishedBundle(lab.store), "the controller's own stays");
  });
});
