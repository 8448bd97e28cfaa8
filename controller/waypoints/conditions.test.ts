import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { validateWaypoint } from '../../lib/crds/waypoint.js';
import { waypointConditions, type WaypointFacts } from './conditions.js';

const pod = (name: string, opts: { node?: string; ip?: string; ready?: boolean; waiting?: string; deleting?: boolean } = {}): V1Pod => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels: { 'ambit.dev/waypoint': 'wp' }, ...(opts.deleting ? { deletionTimestamp: new Date() } : {}) },
  spec: { containers: [], ...(opts.node === '' ? {} : { nodeName: opts.node ?? 'node-a' }) },
  status: {
    phase: opts.ip ? 'Running' : 'Pending',
    ...(opts.ip ? { podIP: opts.ip } : {}),
    conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
    ...(opts.waiting ? { containerStatuses: [{ name: 'waypoint', image: 'x', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: opts.waiting } } }] } : {}),
  },
});

const facts = (over: Partial<WaypointFacts> = {}): WaypointFacts => ({ namespace: 'shop', name: 'wp', generation: 4, errors: [], replicas: 2, deployed: true, problems: [], pods: [], ...over });
const programmed = (f: WaypointFacts) => {
  const c = waypointConditions(f).find((x) => x.type === 'Programmed')!;
  return [c.status, c.reason, c.message];
};

describe('Waypoint conditions', () => {
  it('Accepted: True when valid, with the generation it saw', () => {
    const [accepted] = waypointConditions(facts());
    assert.deepEqual(accepted, { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Valid; it runs as Deployment shop/wp behind Service shop/wp.', observedGeneration: 4 });
  });

  it('Accepted: False/Invalid naming the bad fields, and what happens to what runs', () => {
    const errors = validateWaypoint({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp' }, spec: { replicas: -1, for: 'everything' } });
    assert.ok(errors.length >= 2);
    const [accepted] = waypointConditions(facts({ errors }));
    assert.deepEqual([accepted!.status, accepted!.reason], ['False', 'Invalid']);
    assert.match(accepted!.message, /^Rejected: spec\.for: .*spec\.replicas: .*\. Its Deployment and Service stay as they are\.$/);
    assert.match(waypointConditions(facts({ errors, deployed: false }))[0]!.message, /Nothing is deployed for it\.$/);
    assert.deepEqual(programmed(facts({ errors, deployed: false })), ['False', 'Pending', 'Nothing runs it: the Waypoint is rejected (see Accepted), so Deployment shop/wp is not created.']);
  });

  it('Programmed: True with N of M once one proxy is ready', () => {
    assert.deepEqual(programmed(facts({ pods: [pod('wp-a', { ip: '10.0.0.5', ready: true }), pod('wp-b', { ip: '10.0.0.6' })] })), ['True', 'Programmed', '1 of 2 proxies ready.']);
    assert.deepEqual(programmed(facts({ pods: [pod('wp-a', { ip: '10.0.0.5', ready: true }), pod('wp-b', { ip: '10.0.0.6', ready: true })] })), ['True', 'Programmed', '2 of 2 proxies ready.']);
  });

  it('a pod is ready only with an IP, Ready=True, and not shutting down', () => {
    assert.equal(programmed(facts({ pods: [pod('wp-a', { ready: true })] }))[0], 'False', 'no IP');
    assert.equal(programmed(facts({ pods: [pod('wp-a', { ip: '10.0.0.5', ready: true, deleting: true })] }))[0], 'False', 'terminating');
  });

  it('Programmed: Pending while its objects are not in place', () => {
    assert.deepEqual(programmed(facts({ deployed: false })), ['False', 'Pending', 'Deployment shop/wp is not created yet.']);
    const problem = 'Deployment shop/wp exists and is controlled by ReplicaSet x, not by this Waypoint; delete or rename it, and the controller creates its own.';
    assert.deepEqual(programmed(facts({ problems: [problem], pods: [pod('wp-a', { ip: '10.0.0.5', ready: true })] })), ['False', 'Pending', problem]);
  });

  it('Programmed: NoReadyProxies says what each pod lacks', () => {
    assert.deepEqual(programmed(facts({ replicas: 0 })), ['False', 'NoReadyProxies', 'spec.replicas is 0, so no proxy runs.']);
    assert.deepEqual(programmed(facts()), [
      'False',
      'NoReadyProxies',
      '0 of 2 proxies ready: Deployment shop/wp has no pods yet (labelled ambit.dev/waypoint=wp); see its status and events (kubectl describe deployment wp -n shop).',
    ]);
    const [, , message] = programmed(facts({ pods: [pod('wp-c', { ip: '10.0.0.7', waiting: 'CrashLoopBackOff' }), pod('wp-a', { node: '' }), pod('wp-b')] }));
    assert.equal(
      message,
      '0 of 2 proxies ready: pod wp-a is not scheduled to a node yet; pod wp-b has no IP yet (Pending); pod wp-c is not Ready: its readiness probe (GET /ready on port 15020) does not pass yet; its container is waiting (CrashLoopBackOff).',
    );
  });
});
