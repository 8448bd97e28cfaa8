import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AmbitError } from '../../lib/errors.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { planDeployment, POD_TEMPLATE_HASH_LABEL, rolloutStep } from './deployment.js';
import { templateHash } from './names.js';

function deployment(replicas: number, command = ['serve'], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' }, annotations: { note: 'x' } }, spec: { containers: [{ name: 'web', command }] } },
      ...extra,
    },
  };
}

/** A deterministic random source walking through the alphabet. */
function counter(): () => number {
  let i = 0;
  return () => ((i++ * 7) % 27) / 27 + 0.001;
}

const ready = (pod: KubeObject, isReady: boolean, extra: Record<string, unknown> = {}): KubeObject => ({
  ...pod,
  spec: { ...(pod['spec'] as object), nodeName: 'node-0' },
  status: { podIP: '10.244.1.9', conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] },
  metadata: { ...pod.metadata, ...extra },
});

describe('planDeployment', () => {
  test('creates replicas named like Kubernetes, with owner, labels and service account', () => {
    const d = deployment(3);
    const plan = planDeployment(d, [], { random: counter() });
    const hash = templateHash((d['spec'] as any).template);
    assert.equal(plan.templateHash, hash);
    assert.equal(plan.replicaSetName, `web-${hash}`);
    assert.equal(plan.create.length, 3);
    assert.deepEqual(plan.delete, []);
    const [pod] = plan.create as [any];
    assert.match(pod.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.equal(pod.metadata.namespace, 'shop');
    assert.equal(pod.metadata.generateName, `web-${hash}-`);
    assert.deepEqual(pod.metadata.labels, { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    assert.deepEqual(pod.metadata.annotations, { note: 'x' });
    assert.deepEqual(pod.metadata.ownerReferences, [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${hash}`, uid: (plan.replicaSet.metadata as any).uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.deepEqual(pod.spec.containers, [{ name: 'web', command: ['serve'] }]);
    assert.equal(new Set(plan.create.map((p) => p.metadata.name)).size, 3);
    // The template is copied, not shared.
    pod.spec.containers[0].command.push('mutated');
    assert.deepEqual((d['spec'] as any).template.spec.containers[0].command, ['serve']);
  });

  test('the ReplicaSet links the pods to the Deployment', () => {
    const d = deployment(2);
    d.metadata.uid = 'deploy-uid';
    const rs = planDeployment(d, [], { random: counter() }).replicaSet as any;
    assert.equal(rs.kind, 'ReplicaSet');
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deploy-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(rs.spec.replicas, 2);
    assert.equal(rs.spec.selector.matchLabels[POD_TEMPLATE_HASH_LABEL], rs.metadata.labels[POD_TEMPLATE_HASH_LABEL]);
  });

  test('same inputs, same plan', () => {
    const a = planDeployment(deployment(2), [], { random: counter() });
    const b = planDeployment(deployment(2), [], { random: counter() });
    assert.deepEqual(a, b);
  });

  test('a service account in the template is kept', () => {
    const d = deployment(1);
    (d['spec'] as any).template.spec.serviceAccountName = 'web-sa';
    assert.equal((planDeployment(d, [], { random: counter() }).create[0] as any).spec.serviceAccountName, 'web-sa');
  });

  test('scales up and down, removing unready pods first', () => {
    const random = counter();
    const first = planDeployment(deployment(3), [], { random });
    const pods = [ready(first.create[0]!, true), ready(first.create[1]!, false), ready(first.create[2]!, true)];

    const same = planDeployment(deployment(3), pods, { random });
    assert.deepEqual([same.create, same.delete], [[], []]);
    assert.equal(same.keep.length, 3);

    const up = planDeployment(deployment(5), pods, { random });
    assert.equal(up.create.length, 2);
    assert.deepEqual(up.delete, []);

    const down = planDeployment(deployment(1), pods, { random });
    assert.deepEqual(down.create, []);
    assert.equal(down.delete.length, 2);
    assert.equal(down.delete[0], pods[1], 'the unready pod goes first');
    assert.equal(down.keep.length, 1);

    const zero = planDeployment(deployment(0), pods, { random });
    assert.equal(zero.delete.length, 3);
    assert.deepEqual(zero.keep, []);
  });

  test('among ready pods, the newest goes first', () => {
    const first = planDeployment(deployment(2), [], { random: counter() });
    const older = ready(first.create[0]!, true, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const newer = ready(first.create[1]!, true, { creationTimestamp: '2024-06-01T00:00:00Z' });
    assert.deepEqual(planDeployment(deployment(1), [older, newer]).delete, [newer]);
  });

  test('a new template rolls: new pods created, all old ones deleted', () => {
    const random = counter();
    const v1 = planDeployment(deployment(2, ['v1']), [], { random });
    const running = v1.create.map((p) => ready(p, true));
    const v2 = planDeployment(deployment(2, ['v2']), running, { random });
    assert.notEqual(v2.templateHash, v1.templateHash);
    assert.equal(v2.strategy, 'RollingUpdate');
    assert.equal(v2.create.length, 2);
    assert.deepEqual(v2.delete, running);
    for (const p of v2.create) assert.equal(p.metadata.labels![POD_TEMPLATE_HASH_LABEL], v2.templateHash);

    // Midway: one new pod exists already; the plan only tops up.
    const mid = planDeployment(deployment(2, ['v2']), [...running, ready(v2.create[0]!, true)], { random });
    assert.equal(mid.create.length, 1);
    assert.equal(mid.keep.length, 1);
    assert.deepEqual(mid.delete, running);

    const recreate = planDeployment(deployment(2, ['v3'], { strategy: { type: 'Recreate' } }), running, { random });
    assert.equal(recreate.strategy, 'Recreate');
  });

  test('ignores pods it does not own and pods already terminating', () => {
    const first = planDeployment(deployment(1), [], { random: counter() });
    const mine = first.create[0]!;
    const otherNs = { ...mine, metadata: { ...mine.metadata, namespace: 'other' } };
    const otherDeploy = { ...mine, metadata: { ...mine.metadata, ownerReferences: [{ ...mine.metadata.ownerReferences![0]!, name: `web-api-${first.templateHash}` }] } };
    const bare: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: 'shop', labels: { app: 'web' } }, spec: {} };
    const plan = planDeployment(deployment(1), [otherNs, otherDeploy, bare], { random: counter() });
    assert.equal(plan.create.length, 1);
    assert.deepEqual(plan.delete, []);

    const terminating = { ...mine, metadata: { ...mine.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const again = planDeployment(deployment(1), [terminating], { random: counter() });
    assert.equal(again.create.length, 1, 'a replacement for the terminating pod');
    assert.notEqual(again.create[0]!.metadata.name, mine.metadata.name, 'the terminating pod still holds its name');
  });

  test('name collisions are avoided; a stuck random source is an error', () => {
    const bare = planDeployment(deployment(1), [], { random: () => 0 }).create[0]!.metadata.name;
    const plan = planDeployment(deployment(1), [], { random: () => 0, takenNames: [] });
    assert.equal(plan.create[0]!.metadata.name, bare);
    assert.throws(() => planDeployment(deployment(2), [], { random: () => 0 }), (err: unknown) => {
      assert.ok(err instanceof AmbitError);
      assert.equal(err.code, 'AMBIT_ERR_MANIFEST');
      assert.match(err.message, /^Deployment shop\/web: could not find a free pod name after 100 tries/);
      return true;
    });
    assert.throws(() => planDeployment(deployment(1), [], { random: () => 0, takenNames: [bare] }), /could not find a free pod name/);
  });

  test('long names are truncated the way generateName is', () => {
    const d = deployment(1);
    d.metadata.name = 'a'.repeat(60);
    const name = planDeployment(d, [], { random: counter() }).create[0]!.metadata.name;
    assert.equal(name.length, 63);
    assert.ok(name.startsWith('a'.repeat(58)));
  });

  test('malformed Deployments are refused with a clear error', () => {
    assert.throws(() => planDeployment({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }, []), /Deployment default\/x: spec\.template\.spec is required/);
    assert.throws(() => planDeployment(deployment(-1), []), /spec\.replicas must be an integer >= 0/);
  });
});

describe('rolloutStep', () => {
  const rolled = (replicas: number, extra: Record<string, unknown> = {}) => {
    const random = counter();
    const v1 = planDeployment(deployment(replicas, ['v1']), [], { random }).create.map((p) => ready(p, true));
    const v2 = deployment(replicas, ['v2'], extra);
    return { random, v1, v2 };
  };

  test('maxSurge 1, maxUnavailable 0 (the chart\'s controller): one new pod, then the old one once it is ready', () => {
    const { random, v1, v2 } = rolled(1, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    const start = rolloutStep(v2, planDeployment(v2, v1, { random }));
    assert.equal(start.create.length, 1);
    assert.deepEqual(start.delete, []);
    const fresh = ready(start.create[0]!, false);
    assert.deepEqual(rolloutStep(v2, planDeployment(v2, [...v1, fresh], { random })), { create: [], delete: [] }, 'the old pod stays while the new one is not ready');
    assert.deepEqual(rolloutStep(v2, planDeployment(v2, [...v1, ready(fresh, true)], { random })).delete, v1);
  });

  test('the default 25%/25% with 4 replicas: one surge pod and one unavailable at a time', () => {
    const { random, v1, v2 } = rolled(4);
    const step = rolloutStep(v2, planDeployment(v2, v1, { random }));
    assert.equal(step.create.length, 1, 'maxSurge 25% of 4');
    assert.equal(step.delete.length, 1, 'maxUnavailable 25% of 4');
  });

  test('unready old pods go first, and Recreate deletes before it creates', () => {
    const { random, v1, v2 } = rolled(2, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } });
    const mixed = [ready(v1[0]!, false), v1[1]!];
    assert.deepEqual(rolloutStep(v2, planDeployment(v2, mixed, { random })).delete, [mixed[0]]);
    const recreate = deployment(2, ['v3'], { strategy: { type: 'Recreate' } });
    const first = rolloutStep(recreate, planDeployment(recreate, v1, { random }));
    assert.deepEqual([first.create.length, first.delete.length], [0, 2]);
    assert.equal(rolloutStep(recreate, planDeployment(recreate, [], { random })).create.length, 2);
  });
});
