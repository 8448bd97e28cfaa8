import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { logger } from '../../lib/log.js';
import type { AuthorizationPolicy } from '../../lib/xds/index.js';
import { authorizationPolicy, conditions, createService, namespace, startLab, startModelHarness, syncEndpointSlices, until, type Lab, type ModelHarness } from '../fixtures.js';
import { kubeStatusPatcher } from '../model/index.js';
import { kubeOwnedObjects } from './client.js';
import { WaypointReconciler } from './reconcile.js';

/**
 * The reconciler against the lab's API server, through @kubernetes/client-node
 * informers and writes, as in a cluster: a Waypoint gets its objects, they
 * follow it and are put back when edited, they go when it goes, and its
 * status follows its pods. The lab's in-process store runs no Deployment
 * controller, so the test plays it: it creates the waypoint's pod and writes
 * its readiness itself.
 */

const template = { image: 'ghcr.io/ambit-mesh/ambit:test', controllerAddress: '10.200.0.1:15010', controllerIdentity: 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller', trustDomain: 'cluster.local', tokenAudience: 'ambit-controller', rootCaConfigMap: 'ambit-root-ca', resources: {} };

describe('WaypointReconciler against the lab API server', () => {
  let lab: Lab;
  let harness: ModelHarness;
  let reconciler: WaypointReconciler;

  const waypoint = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name, namespace: 'shop' }, spec });
  const get = (plural: string, name: string) => lab.store.tryGet(plural, 'shop', name) as (KubeObject & { spec?: any }) | undefined;
  const condition = (name: string, type: string) => conditions(lab.store, 'waypoints', 'shop', name).find((c) => c.type === type);
  const deploymentSpec = () => get('deployments', 'wp')?.spec;
  const policyEnforced = (name: string) => conditions(lab.store, 'authorizationpolicies', 'shop', name).find((c) => c.type === 'Enforced');
  const pushedPolicy = (name: string) => harness.model.resources('AuthorizationPolicy').get(`shop/${name}`) as AuthorizationPolicy | undefined;

  before(async () => {
    lab = await startLab();
    lab.store.create('namespaces', namespace('ambit-system'));
    lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    harness = await startModelHarness(lab);
    reconciler = new WaypointReconciler({
      view: harness.model,
      objects: kubeOwnedObjects({ kc: lab.kc, log: logger('test', 'waypoints') }),
      patcher: kubeStatusPatcher(lab.kc),
      template,
      log: logger('test', 'waypoints'),
      debounceMs: 5,
      backoff: { next: () => 20, reset: () => undefined },
    });
    await reconciler.start();
  });

  after(async () => {
    await reconciler?.close();
    await harness?.stop();
    await lab?.close();
  });

  it('a new Waypoint gets a ServiceAccount, a Deployment and a Service it controls', async () => {
    const wp = lab.store.create('waypoints', waypoint('wp', { replicas: 2 }));
    await until('the three objects exist', () => ['serviceaccounts', 'deployments', 'services'].every((p) => get(p, 'wp') !== undefined));
    for (const plural of ['serviceaccounts', 'deployments', 'services']) {
      const o = get(plural, 'wp')!;
      assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', name: 'wp', uid: wp.metadata.uid, controller: true, blockOwnerDeletion: true }], plural);
      assert.equal(o.metadata.labels?.['ambit.dev/waypoint'], 'wp', plural);
    }
    const spec = deploymentSpec();
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.template.metadata.labels, { 'ambit.dev/waypoint': 'wp', 'ambit.dev/dataplane-mode': 'none' });
    assert.equal(spec.template.spec.serviceAccountName, 'wp');
    assert.equal(spec.template.spec.containers[0].image, 'ghcr.io/ambit-mesh/ambit:test');
    assert.deepEqual(spec.template.spec.containers[0].env[0], { name: 'AMBIT_CONTROLLER_ADDRESS', value: '10.200.0.1:15010' });
    assert.deepEqual(get('services', 'wp')!.spec.selector, { 'ambit.dev/waypoint': 'wp' });

    await until('its status is written', () => condition('wp', 'Programmed') !== undefined);
    assert.deepEqual(
      (({ status, reason, message, observedGeneration }) => ({ status, reason, message, observedGeneration }))(condition('wp', 'Accepted')!),
      { status: 'True', reason: 'Accepted', message: 'Valid; it runs as Deployment shop/wp behind Service shop/wp.', observedGeneration: 1 },
    );
    const programmed = condition('wp', 'Programmed')!;
    assert.deepEqual([programmed.status, programmed.reason], ['False', 'NoReadyProxies']);
    assert.match(programmed.message, /^0 of 2 proxies ready: Deployment shop\/wp has no pods yet/);
  });

  it('a change of replicas updates the Deployment', async () => {
    lab.store.patch('waypoints', 'shop', 'wp', { spec: { replicas: 3 } }, 'merge');
    await until('replicas 3', () => deploymentSpec()?.replicas === 3);
    await until('the status saw generation 2', () => condition('wp', 'Programmed')?.observedGeneration === 2);
    assert.match(condition('wp', 'Programmed')!.message, /^0 of 3 proxies ready/);
  });

  it('what someone else changes is put back, and what they add beside it is left', async () => {
    const before = get('deployments', 'wp')!.metadata.resourceVersion;
    lab.store.patch('deployments', 'shop', 'wp', { metadata: { labels: { team: 'payments' } }, spec: { replicas: 9, template: { spec: { containers: [{ name: 'waypoint', image: 'evil:latest' }] } } } }, 'merge');
    await until('put back', () => {
      const d = get('deployments', 'wp')!;
      return d.metadata.resourceVersion !== before && d.spec.replicas === 3 && d.spec.template.spec.containers[0].image === template.image && d.spec.template.spec.containers[0].ports?.length === 2;
    });
    assert.equal(get('deployments', 'wp')!.metadata.labels?.team, 'payments');

    lab.store.patch('services', 'shop', 'wp', { spec: { selector: { app: 'hijack' } } }, 'merge');
    await until('the selector is put back', () => JSON.stringify(get('services', 'wp')!.spec.selector) === JSON.stringify({ 'ambit.dev/waypoint': 'wp' }));

    // Without its label the object leaves the controller's cache; creating it again finds it, and it is labelled again.
    lab.store.patch('serviceaccounts', 'shop', 'wp', { metadata: { labels: { 'ambit.dev/waypoint': null } } }, 'merge');
    await until('the label is put back', () => get('serviceaccounts', 'wp')!.metadata.labels?.['ambit.dev/waypoint'] === 'wp');
  });

  it('Programmed and waypointState follow the readiness of its pods, and so do the policies that depend on them', async () => {
    createService(lab.store, 'web', { namespace: 'shop', clusterIP: '10.96.0.20', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], labels: { 'ambit.dev/use-waypoint': 'wp' } });
    syncEndpointSlices(lab.store, 'shop', 'web');
    lab.store.create('authorizationpolicies', authorizationPolicy('at-wp', { targetRefs: [{ kind: 'Waypoint', name: 'wp' }], action: 'DENY', rules: [{}] }, 'shop'));
    lab.store.create('authorizationpolicies', authorizationPolicy('at-web', { targetRefs: [{ kind: 'Service', name: 'web' }], action: 'DENY', rules: [{}] }, 'shop'));
    const ref = { namespace: 'shop', name: 'wp' };
    await until('the policies are in the model', () => pushedPolicy('at-web') !== undefined && policyEnforced('at-wp') !== undefined);
    assert.equal(harness.model.waypointState(ref), 'not-running');
    assert.deepEqual(pushedPolicy('at-web')!.nodeAgentServices, ['web'], 'no waypoint serves web: its node agents enforce the policy');
    assert.match(policyEnforced('at-wp')!.message, /waypoint shop\/wp, which does not run/);

    // As the Deployment controller and the kubelet would: a pod, scheduled and running, not ready yet.
    const labels = { 'ambit.dev/waypoint': 'wp', 'ambit.dev/dataplane-mode': 'none', 'pod-template-hash': 'abc' };
    lab.store.create('pods', { metadata: { name: 'wp-abc-1', namespace: 'shop', labels }, spec: { nodeName: 'node-a', serviceAccountName: 'wp', containers: [{ name: 'waypoint', image: template.image }] } });
    lab.store.patch('pods', 'shop', 'wp-abc-1', { status: { phase: 'Running', podIP: '10.244.1.30', conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge', { subresource: 'status' });
    await until('Programmed names the pod', () => /pod wp-abc-1 is not Ready: its readiness probe/.test(condition('wp', 'Programmed')?.message ?? ''));
    assert.equal(harness.model.waypointState(ref), 'not-running');

    lab.store.patch('pods', 'shop', 'wp-abc-1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge', { subresource: 'status' });
    await until('Programmed', () => condition('wp', 'Programmed')?.status === 'True');
    assert.deepEqual([condition('wp', 'Programmed')!.reason, condition('wp', 'Programmed')!.message], ['Programmed', '1 of 3 proxies ready.']);
    assert.equal(harness.model.waypointState(ref), 'serving');
    assert.deepEqual(pushedPolicy('at-web')!.nodeAgentServices, [], 'the waypoint serves web: the node agents leave its policy to it');
    await until('the policy targeting the waypoint is enforced by it', () => policyEnforced('at-wp')?.reason === 'Waypoint');
    await until('the policy targeting the Service is enforced by the waypoint', () => policyEnforced('at-web')?.reason === 'Waypoint');

    lab.store.patch('pods', 'shop', 'wp-abc-1', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge', { subresource: 'status' });
    await until('not programmed again', () => condition('wp', 'Programmed')?.reason === 'NoReadyProxies');
    assert.equal(harness.model.waypointState(ref), 'not-running');
    assert.deepEqual(pushedPolicy('at-web')!.nodeAgentServices, ['web']);
    await until('the policy says so again', () => policyEnforced('at-wp')?.reason === 'NotEnforced');
    lab.store.delete('pods', 'shop', 'wp-abc-1');
  });

  it('a Waypoint deleted: its objects are deleted, also where nothing collects them by owner', async () => {
    // The lab's store collects dependents as Kubernetes does; with its collector off, the controller does it too.
    lab.store.garbageCollector = false;
    try {
      lab.store.delete('waypoints', 'shop', 'wp');
      await until('the objects are gone', () => ['serviceaccounts', 'deployments', 'services'].every((p) => get(p, 'wp') === undefined));
    } finally {
      lab.store.garbageCollector = true;
    }
  });

  it('a rejected Waypoint gets no objects and says why', async () => {
    lab.store.create('waypoints', waypoint('bad', { replicas: -1 }));
    await until('Accepted=False', () => condition('bad', 'Accepted')?.status === 'False');
    assert.equal(condition('bad', 'Accepted')!.reason, 'Invalid');
    assert.match(condition('bad', 'Accepted')!.message, /^Rejected: spec\.replicas: .* Nothing is deployed for it\.$/);
    assert.deepEqual([condition('bad', 'Programmed')!.status, condition('bad', 'Programmed')!.reason], ['False', 'Pending']);
    assert.equal(get('deployments', 'bad'), undefined);
    lab.store.delete('waypoints', 'shop', 'bad');
  });

  it("an object of another owner in the way is left alone, and the status says so", async () => {
    const cm = lab.store.create('configmaps', { metadata: { name: 'owner', namespace: 'shop' } });
    const theirs = lab.store.create('services', {
      metadata: { name: 'taken', namespace: 'shop', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: cm.metadata.uid!, controller: true }] },
      spec: { selector: { app: 'mine' }, ports: [{ port: 80 }] },
    });
    lab.store.create('waypoints', waypoint('taken'));
    await until('Programmed says what is in the way', () => /Service shop\/taken exists and is controlled by ConfigMap owner, not by this Waypoint/.test(condition('taken', 'Programmed')?.message ?? ''));
    assert.equal(condition('taken', 'Programmed')!.reason, 'Pending');
    assert.equal(get('services', 'taken')!.metadata.resourceVersion, theirs.metadata.resourceVersion, 'not touched');
    assert.ok(get('deployments', 'taken'), 'the rest is created');
    lab.store.delete('waypoints', 'shop', 'taken');
    await until('its own objects go', () => get('deployments', 'taken') === undefined);
    assert.ok(get('services', 'taken'), 'the Service it did not own stays');
  });
});
