import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AmbitError } from '../../lib/errors.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { hostPortConflict, schedulePod, schedulePods } from './scheduling.js';

const NODES = ['node-0', 'node-1', 'node-2'];
const pod = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [], ...spec } });
const on = (node: string, name = `p-${node}-${Math.random()}`): KubeObject => pod(name, { nodeName: node });

describe('scheduling', () => {
  test('fewest pods wins, ties go to the earlier node', () => {
    assert.equal(schedulePod(pod('a'), NODES, []), 'node-0');
    assert.equal(schedulePod(pod('a'), NODES, [on('node-0')]), 'node-1');
    assert.equal(schedulePod(pod('a'), NODES, [on('node-0'), on('node-1')]), 'node-2');
    assert.equal(schedulePod(pod('a'), NODES, [on('node-0'), on('node-1'), on('node-2'), on('node-0'), on('node-2')]), 'node-1');
    assert.equal(schedulePod(pod('a'), NODES, [on('elsewhere'), on('elsewhere')]), 'node-0', 'pods on unknown nodes are not counted');
  });

  test('spec.nodeName and the hostname nodeSelector pin a pod', () => {
    assert.equal(schedulePod(pod('a', { nodeName: 'node-2' }), NODES, []), 'node-2');
    assert.equal(schedulePod(pod('a', { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } }), NODES, []), 'node-1');
    assert.equal(schedulePod(pod('a', { nodeSelector: { disk: 'ssd' } }), NODES, [on('node-0')]), 'node-1', 'other selectors are ignored');
  });

  test('a pinned node that does not exist is an error naming the pod, the field and the nodes', () => {
    assert.throws(() => schedulePod(pod('db', { nodeName: 'node-9' }), NODES, []), (err: unknown) => {
      assert.ok(err instanceof AmbitError);
      assert.equal(err.code, 'AMBIT_ERR_MANIFEST');
      assert.equal(err.message, 'Pod default/db: spec.nodeName "node-9" is not a lab node; the nodes are node-0, node-1, node-2');
      return true;
    });
    const owned = pod('web-abc-xyz', { nodeSelector: { 'kubernetes.io/hostname': 'gone' } });
    owned.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true }];
    assert.throws(() => schedulePod(owned, NODES, []), /^AmbitError: Pod default\/web-abc-xyz \(from ReplicaSet web-abc\): spec\.nodeSelector\["kubernetes\.io\/hostname"\] "gone" is not a lab node/);
    assert.throws(() => schedulePod(pod('a'), [], []), (err: unknown) => err instanceof AmbitError && err.code === 'AMBIT_ERR_LAB_STATE');
  });

  test('schedulePods spreads a batch and returns copies with nodeName set', () => {
    const batch = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n));
    const placed = schedulePods(batch, NODES, [on('node-0')]);
    assert.deepEqual(placed.map((p) => (p['spec'] as any).nodeName), ['node-1', 'node-2', 'node-0', 'node-1', 'node-2']);
    assert.equal((batch[0]!['spec'] as any).nodeName, undefined, 'inputs are not mutated');
    const pinned = schedulePods([pod('x', { nodeName: 'node-0' }), pod('y'), pod('z')], NODES);
    assert.deepEqual(pinned.map((p) => (p['spec'] as any).nodeName), ['node-0', 'node-1', 'node-2']);
  });

  test('schedulePods reports every pod it cannot place', () => {
    assert.throws(() => schedulePods([pod('a', { nodeName: 'x' }), pod('b'), pod('c', { nodeName: 'y' })], NODES), (err: unknown) => {
      assert.ok(err instanceof AmbitError);
      assert.equal(
        err.message,
        '2 pods cannot be scheduled:\n  Pod default/a: spec.nodeName "x" is not a lab node; the nodes are node-0, node-1, node-2\n  Pod default/c: spec.nodeName "y" is not a lab node; the nodes are node-0, node-1, node-2',
      );
      return true;
    });
  });
});

describe('NodePorts', () => {
  const agent = (name: string, node: string, ports: Record<string, unknown>[]): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'sys', uid: name }, spec: { nodeName: node, hostNetwork: true, containers: [{ name: 'a', ports }] } }) as unknown as KubeObject;
  test("keeps a hostNetwork pod off a node where another pod holds its containerPorts (they default to hostPorts), as a DaemonSet's surge pod", () => {
    const old = agent('old', 'node1', [{ containerPort: 15001 }, { containerPort: 15020 }]);
    const surge = agent('new', 'node1', [{ containerPort: 15020 }]);
    assert.match(hostPortConflict(surge, 'node1', [old, surge]) ?? '', /didn't have free ports for the requested pod ports \(TCP\/15020 held by pod old\)/);
    assert.equal(hostPortConflict(surge, 'node2', [old]), undefined, 'another node');
    assert.equal(hostPortConflict(agent('bare', 'node1', []), 'node1', [old]), undefined, 'no declared ports, no host ports');
    assert.equal(hostPortConflict(agent('udp', 'node1', [{ containerPort: 15020, protocol: 'UDP' }]), 'node1', [old]), undefined);
  });
});
