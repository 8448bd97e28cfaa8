import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { DAEMONSET_HASH_LABEL, planDaemonSet } from './daemonset.js';
import { templateHash } from './names.js';

const nodes = [
  { name: 'node1', labels: { 'kubernetes.io/os': 'linux' } },
  { name: 'node2', labels: { 'kubernetes.io/os': 'linux' } },
];
const ds = (image: string, surge = 1): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'sys', uid: 'ds-uid' },
    spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: surge ? 0 : 1 } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image }] } } },
  }) as unknown as KubeObject;
const podOf = (d: KubeObject, name: string, node: string, ready: boolean): KubeObject =>
  ({
    metadata: { name, namespace: 'sys', labels: { [DAEMONSET_HASH_LABEL]: templateHash((d.spec as { template: unknown }).template) }, ownerReferences: [{ kind: 'DaemonSet', name: 'agent', uid: 'ds-uid' }] },
    spec: { nodeName: node },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }) as unknown as KubeObject;

describe('DaemonSet controller', () => {
  it('puts one pod on each node, bound to it, owned by the DaemonSet', () => {
    const plan = planDaemonSet(ds('v1'), [], nodes);
    assert.deepEqual(plan.create.map((p) => (p.spec as { nodeName: string }).nodeName), ['node1', 'node2']);
    assert.equal(plan.create[0]!.metadata.ownerReferences?.[0]?.uid, 'ds-uid');
    assert.equal(plan.status.desiredNumberScheduled, 2);
  });

  it('rolls with surge: the new pod first, the old one only once the new one is ready', () => {
    const old = ds('v1');
    const next = ds('v2');
    const pods = [podOf(old, 'agent-a', 'node1', true), podOf(old, 'agent-b', 'node2', true)];
    const first = planDaemonSet(next, pods, nodes);
    assert.equal(first.create.length, 2);
    assert.equal(first.delete.length, 0);
    const after = [...pods, podOf(next, 'agent-c', 'node1', true), podOf(next, 'agent-d', 'node2', false)];
    const second = planDaemonSet(next, after, nodes);
    assert.deepEqual(second.delete.map((p) => p.metadata.name), ['agent-a']);
    assert.equal(second.create.length, 0);
  });

  it('without surge deletes the old pod first', () => {
    const plan = planDaemonSet(ds('v2', 0), [podOf(ds('v1', 0), 'agent-a', 'node1', true)], nodes.slice(0, 1));
    assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-a']);
    assert.equal(plan.create.length, 0);
  });
});
