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

  it('rolls with maxSurge 1 one node at a time: the new pod beside the old one, which goes once the new one is ready', () => {
    const old = ds('v1');
    const next = ds('v2');
    const pods = [podOf(old, 'agent-a', 'node1', true), podOf(old, 'agent-b', 'node2', true)];
    const first = planDaemonSet(next, pods, nodes);
    assert.deepEqual(first.create.map((p) => (p.spec as { nodeName: string }).nodeName), ['node1']);
    assert.equal(first.delete.length, 0);
    const surging = [...pods, podOf(next, 'agent-c', 'node1', false)];
    const second = planDaemonSet(next, surging, nodes);
    assert.deepEqual([second.create.length, second.delete.length], [0, 0], 'node2 waits while node1 surges');
    const nodeOneReady = [...pods, podOf(next, 'agent-c', 'node1', true)];
    const third = planDaemonSet(next, nodeOneReady, nodes);
    assert.deepEqual(third.delete.map((p) => p.metadata.name), ['agent-a']);
    assert.deepEqual(third.create.map((p) => (p.spec as { nodeName: string }).nodeName), ['node2']);
  });

  it('counts a node as updated and available by its oldest pod, so a surge is rolled out only once the old pods are gone', () => {
    const old = ds('v1');
    const next = ds('v2');
    const both = [podOf(old, 'agent-a', 'node1', true), podOf(next, 'agent-c', 'node1', true), podOf(old, 'agent-b', 'node2', true)];
    const during = planDaemonSet(next, both, nodes).status;
    assert.deepEqual([during.updatedNumberScheduled, during.numberAvailable, during.desiredNumberScheduled], [0, 2, 2]);
    const after = planDaemonSet(next, [podOf(next, 'agent-c', 'node1', true), podOf(old, 'agent-b', 'node2', true)], nodes).status;
    assert.equal(after.updatedNumberScheduled, 1);
  });

  it("with maxSurge 100% (the uninstall hook's) surges on every node at once", () => {
    const next = { ...ds('v2'), spec: { ...(ds('v2').spec as object), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: 0 } } } } as KubeObject;
    const plan = planDaemonSet(next, [podOf(ds('v1'), 'agent-a', 'node1', true), podOf(ds('v1'), 'agent-b', 'node2', true)], nodes);
    assert.equal(plan.create.length, 2);
  });

  it('replaces at once an old pod that is not ready anyway, beyond the surge', () => {
    const old = ds('v1');
    const next = ds('v2');
    const plan = planDaemonSet(next, [podOf(old, 'agent-a', 'node1', true), podOf(old, 'agent-b', 'node2', false)], nodes);
    assert.deepEqual(plan.create.map((p) => (p.spec as { nodeName: string }).nodeName).sort(), ['node1', 'node2']);
  });

  it('without surge deletes old pods first, on maxUnavailable nodes at a time', () => {
    const old = ds('v1', 0);
    const next = ds('v2', 0);
    const first = planDaemonSet(next, [podOf(old, 'agent-a', 'node1', true), podOf(old, 'agent-b', 'node2', true)], nodes);
    assert.deepEqual(first.delete.map((p) => p.metadata.name), ['agent-a']);
    assert.equal(first.create.length, 0);
    const second = planDaemonSet(next, [podOf(old, 'agent-b', 'node2', true)], nodes);
    assert.deepEqual(second.create.map((p) => (p.spec as { nodeName: string }).nodeName), ['node1']);
    assert.equal(second.delete.length, 0, 'node2 waits until node1 is available again');
    const third = planDaemonSet(next, [podOf(next, 'agent-c', 'node1', true), podOf(old, 'agent-b', 'node2', true)], nodes);
    assert.deepEqual(third.delete.map((p) => p.metadata.name), ['agent-b']);
  });

  it('OnDelete replaces nothing until a pod is deleted', () => {
    const next = { ...ds('v2'), spec: { ...(ds('v2').spec as object), updateStrategy: { type: 'OnDelete' } } } as KubeObject;
    const plan = planDaemonSet(next, [podOf(ds('v1'), 'agent-a', 'node1', true)], nodes.slice(0, 1));
    assert.deepEqual([plan.create.length, plan.delete.length], [0, 0]);
  });
});
