import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { pino } from 'pino';
import { DETACH_ENV, prepareAgentsForUninstall, rolledOut, withDetachOnExit, type DaemonSetAccess } from './detach.js';

const quiet = pino({ level: 'silent' });

function daemonSet(env: { name: string; value: string }[] = [{ name: DETACH_ENV, value: 'false' }, { name: 'AMBIT_WORKERS', value: '2' }]): V1DaemonSet {
  return {
    metadata: { name: 'ambit-node-agent', namespace: 'ambit-system', generation: 1, resourceVersion: '10' },
    spec: {
      selector: { matchLabels: { app: 'a' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { spec: { containers: [{ name: 'node-agent', image: 'x', env }] } },
    },
    status: { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
  };
}

/** A DaemonSet controller in miniature: a replace bumps the generation; each poll rolls one more node. */
function fakeCluster(ds: V1DaemonSet | undefined): DaemonSetAccess & { replaced: V1DaemonSet[] } {
  let current = ds;
  const replaced: V1DaemonSet[] = [];
  return {
    describe: 'DaemonSet ambit-system/ambit-node-agent',
    replaced,
    read: async () => {
      if (!current) return undefined;
      const s = current.status!;
      if ((s.updatedNumberScheduled ?? 0) < s.desiredNumberScheduled) s.updatedNumberScheduled = (s.updatedNumberScheduled ?? 0) + 1;
      s.observedGeneration = current.metadata!.generation;
      s.numberAvailable = s.desiredNumberScheduled;
      return structuredClone(current);
    },
    replace: async (next) => {
      replaced.push(next);
      current = { ...structuredClone(next), metadata: { ...next.metadata, generation: (next.metadata?.generation ?? 0) + 1 } };
      current.status = { ...current.status!, updatedNumberScheduled: 0 };
      return current;
    },
  };
}

describe('uninstall hook: agents detach on exit', () => {
  it('sets the variable once, keeps the other env, and surges on every node at once', () => {
    const next = withDetachOnExit(daemonSet())!;
    const env = next.spec!.template.spec!.containers[0]!.env!;
    assert.deepEqual(env, [{ name: 'AMBIT_WORKERS', value: '2' }, { name: DETACH_ENV, value: 'true' }]);
    assert.deepEqual(next.spec!.updateStrategy!.rollingUpdate, { maxSurge: '100%', maxUnavailable: 0 });
    assert.equal(next.metadata!.resourceVersion, '10', 'the write carries the read version');
    assert.equal(withDetachOnExit(next), undefined, 'nothing to do the second time');
  });

  it('refuses a DaemonSet that is not the agent', () => {
    const ds = daemonSet();
    ds.spec!.template.spec!.containers[0]!.name = 'other';
    assert.throws(() => withDetachOnExit(ds), /no container named node-agent/);
  });

  it('waits for the rollout on every node', async () => {
    const cluster = fakeCluster(daemonSet());
    assert.equal(await prepareAgentsForUninstall({ daemonSet: cluster, timeoutMs: 60_000, log: quiet, sleep: async () => undefined }), 'rolled');
    assert.equal(cluster.replaced.length, 1);
    assert.ok(rolledOut((await cluster.read())!));
  });

  it('has nothing to do without a DaemonSet', async () => {
    assert.equal(await prepareAgentsForUninstall({ daemonSet: fakeCluster(undefined), timeoutMs: 1000, log: quiet }), 'absent');
  });

  it('gives up after the timeout with a hint', async () => {
    const ds = daemonSet();
    const stuck: DaemonSetAccess = { describe: 'DaemonSet x/y', read: async () => ({ ...structuredClone(ds), metadata: { ...ds.metadata, generation: 2 } }), replace: async (d) => d };
    let t = 0;
    await assert.rejects(
      prepareAgentsForUninstall({ daemonSet: stuck, timeoutMs: 5000, log: quiet, now: () => t, sleep: async (ms) => void (t += ms) }),
      /agents rolled.*--no-hooks/,
    );
  });
});
