import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger } from '../../lib/log.js';
import type { AuthorizationPolicy } from '../../lib/xds/index.js';
import type { ModelChange } from './model.js';
import { MeshModel } from './model.js';

/** Objects as informers deliver them, fed straight to the model's writer. */
const waypointPod = (name: string, opts: { ready?: boolean; ip?: string; waypoint?: string; namespace?: string; deleting?: boolean } = {}) => ({
  metadata: {
    name,
    namespace: opts.namespace ?? 'shop',
    uid: `uid-${name}`,
    labels: { 'ambit.dev/waypoint': opts.waypoint ?? 'wp', 'ambit.dev/dataplane-mode': 'none' },
    ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { nodeName: 'node-a', serviceAccountName: opts.waypoint ?? 'wp' },
  status: { phase: 'Running', ...(opts.ip === '' ? {} : { podIP: opts.ip ?? '10.0.0.9' }), conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }] },
});

function model(): { m: MeshModel; changes: ModelChange[] } {
  const m = new MeshModel({ trustDomain: 'cluster.local', rootNamespace: 'ambit-system', log: logger('test', 'model') });
  m.apply('Namespace', 'add', { metadata: { name: 'shop', labels: { 'ambit.dev/dataplane-mode': 'ambient' } } });
  m.apply('Service', 'add', { metadata: { name: 'web', namespace: 'shop', labels: { 'ambit.dev/use-waypoint': 'wp' } }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } });
  m.apply('Waypoint', 'add', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop', uid: 'uid-wp' }, spec: {} });
  m.apply('AuthorizationPolicy', 'add', { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny', namespace: 'shop' }, spec: { targetRefs: [{ kind: 'Service', name: 'web' }], action: 'DENY', rules: [{}] } });
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  return { m, changes };
}

const ref = { namespace: 'shop', name: 'wp' };
const nodeAgentServices = (m: MeshModel) => (m.resources('AuthorizationPolicy').get('shop/deny') as AuthorizationPolicy).nodeAgentServices;

describe('waypointState', () => {
  it("'missing' without the Waypoint, 'not-running' without a ready pod, 'serving' with one", () => {
    const { m } = model();
    assert.equal(m.waypointState({ namespace: 'shop', name: 'other' }), 'missing');
    assert.equal(m.waypointState(ref), 'not-running');
    m.apply('Pod', 'add', waypointPod('wp-1'));
    assert.equal(m.waypointState(ref), 'not-running', 'not Ready');
    m.apply('Pod', 'update', waypointPod('wp-1', { ready: true, ip: '' }));
    assert.equal(m.waypointState(ref), 'not-running', 'no IP');
    m.apply('Pod', 'update', waypointPod('wp-1', { ready: true }));
    assert.equal(m.waypointState(ref), 'serving');
    m.apply('Pod', 'update', waypointPod('wp-1', { ready: true, deleting: true }));
    assert.equal(m.waypointState(ref), 'not-running', 'shutting down');
    m.apply('Pod', 'add', waypointPod('other-ns', { ready: true, namespace: 'default' }));
    m.apply('Pod', 'add', waypointPod('other-wp', { ready: true, waypoint: 'wp2' }));
    assert.equal(m.waypointState(ref), 'not-running', 'pods of another namespace or Waypoint do not count');
    m.apply('Pod', 'add', waypointPod('wp-2', { ready: true }));
    assert.equal(m.waypointState(ref), 'serving');
    m.apply('Waypoint', 'delete', { metadata: { name: 'wp', namespace: 'shop' } });
    assert.equal(m.waypointState(ref), 'missing', 'pods without their Waypoint serve nothing');
    assert.deepEqual(m.waypointPods('shop', 'wp').map((p) => p.metadata?.name).sort(), ['wp-1', 'wp-2']);
  });

  it('a pod that starts or stops serving its Waypoint dirties the policies, so agents and status hear of it', () => {
    const { m, changes } = model();
    assert.deepEqual(nodeAgentServices(m), ['web']);
    const gen = m.typeGeneration('AuthorizationPolicy');
    m.apply('Pod', 'add', waypointPod('wp-1'));
    assert.deepEqual(changes.at(-1)!.types, ['Workload'], 'no flip, no policy change');
    assert.equal(m.typeGeneration('AuthorizationPolicy'), gen);

    m.apply('Pod', 'update', waypointPod('wp-1', { ready: true }));
    assert.deepEqual(changes.at(-1), { kind: 'Pod', types: ['Workload', 'AuthorizationPolicy'], status: true });
    assert.ok(m.typeGeneration('AuthorizationPolicy') > gen);
    assert.deepEqual(nodeAgentServices(m), [], 'the waypoint enforces it now');

    m.apply('Pod', 'add', waypointPod('wp-2', { ready: true }));
    assert.deepEqual(changes.at(-1)!.types, ['Workload'], 'a second ready pod changes nothing for the policies');

    m.apply('Pod', 'delete', waypointPod('wp-1', { ready: true }));
    m.apply('Pod', 'delete', waypointPod('wp-2', { ready: true }));
    assert.deepEqual(changes.at(-1)!.types, ['Workload', 'AuthorizationPolicy']);
    assert.deepEqual(nodeAgentServices(m), ['web'], 'back to the node agents');
  });
});
