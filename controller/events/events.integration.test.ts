import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { RunningController } from '../app.js';
import { authorizationPolicy, createService, namespace, startLab, startTestController, tempDir, trafficPolicy, until, type Lab } from '../fixtures.js';

/**
 * Events through @kubernetes/client-node against the lab API server, with
 * two controller replicas electing a leader: the leader writes an Event when
 * a condition changes and when it creates a Waypoint's objects, counts
 * identical repeats in a series, and the follower writes none. Read back as
 * `kubectl describe` reads them: core v1 Events selected by involvedObject.
 */

const ELECTION = { AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_DURATION: '3s', AMBIT_LEASE_RENEW_DEADLINE: '2s', AMBIT_LEASE_RETRY_PERIOD: '250ms' };

interface CoreEvent {
  metadata: { name: string };
  type: string;
  reason: string;
  message: string;
  action: string;
  reportingComponent: string;
  reportingInstance: string;
  involvedObject: { kind: string; name: string; uid: string; apiVersion: string; resourceVersion?: string };
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
}

describe('Events written by the controller against the lab API server', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let leader: RunningController;
  let follower: RunningController;

  /** The core v1 Events about one object, as kubectl describe lists them. */
  const about = (kind: string, name: string): CoreEvent[] => {
    const uid = lab.store.tryGet(kind, 'shop', name)?.metadata.uid;
    if (!uid) return [];
    return lab.store.list('events', { namespace: 'shop', fieldSelector: `involvedObject.uid=${uid}` }).items as unknown as CoreEvent[];
  };
  const find = (kind: string, name: string, reason: string) => about(kind, name).find((e) => e.reason === reason);
  const metric = async (ctl: RunningController, result: string) => {
    const text = await (await fetch(`http://127.0.0.1:${ctl.adminPort}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('ambit_controller_events_total{') && l.includes(`result="${result}"`)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    leader = await startTestController(lab, dir.path, { ...ELECTION, AMBIT_POD_NAME: 'ctl-a' });
    await leader.synced;
    await until('ctl-a leads', () => leader.leadership.isLeader);
    follower = await startTestController(lab, dir.path, { ...ELECTION, AMBIT_POD_NAME: 'ctl-b' });
    await follower.synced;
  });

  after(async () => {
    await follower?.stop();
    await leader?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('an invalid AuthorizationPolicy gets a Warning with the reason and message; fixing it, a Normal one', async () => {
    lab.store.create('authorizationpolicies', authorizationPolicy('broken', { action: 'MAYBE', rules: [{}] }, 'shop'));
    await until('a Warning about the policy', () => find('authorizationpolicies', 'broken', 'Invalid') !== undefined);
    const warning = find('authorizationpolicies', 'broken', 'Invalid')!;
    const policy = lab.store.get('authorizationpolicies', 'shop', 'broken');
    assert.equal(warning.type, 'Warning');
    assert.equal(warning.action, 'Accepted');
    assert.match(warning.message, /^Accepted False: Rejected: spec\.action.*Nothing of it is enforced\.$/);
    assert.deepEqual(warning.involvedObject, { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', namespace: 'shop', name: 'broken', uid: policy.metadata.uid, resourceVersion: warning.involvedObject.resourceVersion });
    assert.equal(warning.reportingComponent, 'ambit.dev/controller');
    assert.equal(warning.reportingInstance, 'ctl-a');
    assert.match(warning.eventTime, /\.\d{6}Z$/);

    lab.store.patch('authorizationpolicies', 'shop', 'broken', { spec: { action: 'DENY' } }, 'merge');
    await until('a Normal Event once it is accepted', () => find('authorizationpolicies', 'broken', 'Accepted') !== undefined);
    assert.equal(find('authorizationpolicies', 'broken', 'Accepted')!.type, 'Normal');
    assert.match(find('authorizationpolicies', 'broken', 'Accepted')!.message, /^Accepted True: Valid/);

    // What kubectl describe asks: core v1 Events of the object, through the API.
    const api = lab.kc.makeApiClient(CoreV1Api);
    const listed = await api.listNamespacedEvent({ namespace: 'shop', fieldSelector: `involvedObject.name=broken,involvedObject.kind=AuthorizationPolicy,involvedObject.uid=${policy.metadata.uid}` });
    assert.ok(['Invalid', 'Accepted'].every((r) => listed.items.some((e) => e.reason === r)), JSON.stringify(listed.items.map((e) => e.reason)));
  });

  it("a Waypoint's ServiceAccount, Deployment and Service being created are Events about the Waypoint", async () => {
    lab.store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec: {} });
    await until('three SuccessfulCreate Events', () => about('waypoints', 'wp').filter((e) => e.reason === 'SuccessfulCreate').length === 3);
    const notes = about('waypoints', 'wp').filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message).sort();
    assert.deepEqual(notes, ['Created Deployment shop/wp.', 'Created Service shop/wp.', 'Created ServiceAccount shop/wp.']);
    await until('Accepted', () => find('waypoints', 'wp', 'Accepted') !== undefined);
    // No proxy runs in this lab (no kubelet): a Waypoint that has never been ready is no Warning.
    assert.equal(about('waypoints', 'wp').filter((e) => e.type === 'Warning').length, 0);
  });

  it('the same transition again is counted in the first Event\'s series, not written anew', async () => {
    lab.store.create('trafficpolicies', trafficPolicy('lb', { targetRefs: [{ kind: 'Service', name: 'cart' }], loadBalancer: { type: 'LeastRequest' } }, 'shop'));
    await until('ServiceNotFound', () => find('trafficpolicies', 'lb', 'ServiceNotFound') !== undefined);
    const cart = () => createService(lab.store, 'cart', { namespace: 'shop', clusterIP: '10.96.0.20', selector: { app: 'cart' }, ports: [{ port: 80 }] });
    cart();
    await until('ResolvedRefs', () => find('trafficpolicies', 'lb', 'ResolvedRefs') !== undefined);
    lab.store.delete('services', 'shop', 'cart');
    await until('ServiceNotFound again, as a series', () => find('trafficpolicies', 'lb', 'ServiceNotFound')?.series?.count === 2);
    cart();
    await until('ResolvedRefs again, as a series', () => find('trafficpolicies', 'lb', 'ResolvedRefs')?.series?.count === 2);
    const reasons = about('trafficpolicies', 'lb').map((e) => e.reason).sort();
    assert.deepEqual(reasons, ['Accepted', 'ResolvedRefs', 'ServiceNotFound'], 'one Event per distinct transition');
    assert.ok((await metric(leader, 'aggregated')) >= 2);
  });

  it('the follower writes none: every Event is the leader\'s, and what it records is dropped', async () => {
    const all = lab.store.list('events', { namespace: 'shop' }).items as unknown as CoreEvent[];
    assert.ok(all.length >= 8);
    assert.deepEqual([...new Set(all.map((e) => e.reportingInstance))], ['ctl-a']);
    const before = lab.store.list('events').items.length;
    follower.events!.record({ regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'x', uid: 'u' }, type: 'Normal', reason: 'Test', action: 'Test', note: 'from the follower' });
    await follower.events!.idle();
    assert.equal(lab.store.list('events').items.length, before);
    assert.equal(await metric(follower, 'not_leader'), 1);
    assert.equal(await metric(follower, 'created'), 0);
  });
});
