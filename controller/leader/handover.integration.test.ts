import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningController } from '../app.js';
import { authorizationPolicy, conditions, namespace, startLab, startTestController, tempDir, until, type Lab } from '../fixtures.js';

/**
 * Controller replicas against the lab API server, electing over a real Lease
 * through @kubernetes/client-node: only the leader writes status and creates
 * Waypoint objects; when it dies without a word the other takes the Lease and
 * writes within a lease duration (and not before it); a graceful stop hands
 * over at the follower's next try.
 */

const LEASE_MS = 3_000;
const RETRY_MS = 250;
/** The longest a candidate waits between tries (client-go's jitter), plus room for a slow CI machine. */
const NEXT_TRY_MS = 2.2 * RETRY_MS + 750;

const ELECTION = { AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_DURATION: `${LEASE_MS / 1000}s`, AMBIT_LEASE_RENEW_DEADLINE: '2s', AMBIT_LEASE_RETRY_PERIOD: `${RETRY_MS}ms` };

describe('controller replicas and leader election against the lab API server', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  const running = new Map<string, RunningController>();

  const start = async (pod: string): Promise<RunningController> => {
    const ctl = await startTestController(lab, dir.path, { ...ELECTION, AMBIT_POD_NAME: pod });
    running.set(pod, ctl);
    await ctl.synced;
    return ctl;
  };
  const lease = () => lab.store.tryGet('leases', 'ambit-system', 'ambit-controller') as { spec: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number } } | undefined;
  const accepted = (name: string) => conditions(lab.store, 'authorizationpolicies', 'shop', name).find((c) => c.type === 'Accepted');
  const waypoint = (name: string) => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name, namespace: 'shop' }, spec: {} });
  const writes = (ctl: RunningController) => (ctl.status?.writes ?? 0) + (ctl.waypoints?.writes ?? 0);
  const metric = async (ctl: RunningController) => /^ambit_controller_leader (\d)$/m.exec(await (await fetch(`http://127.0.0.1:${ctl.adminPort}/metrics`)).text())?.[1];
  const debugLeader = async (ctl: RunningController) => (await (await fetch(`http://127.0.0.1:${ctl.adminPort}/debug/leader`)).json()) as { election: string; leading: boolean; leader: string; identity: string };

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
  });

  after(async () => {
    for (const ctl of running.values()) await ctl.stop({ releaseLease: false });
    await lab?.close();
    await dir?.remove();
  });

  it('only the replica holding the Lease writes status and creates Waypoint objects; every replica is ready', async () => {
    const a = await start('ctl-a');
    await until('ctl-a leads', () => a.leadership.isLeader);
    const b = await start('ctl-b');
    assert.equal(lease()?.spec.holderIdentity, 'ctl-a');
    assert.equal(lease()?.spec.leaseDurationSeconds, LEASE_MS / 1000);

    lab.store.create('authorizationpolicies', authorizationPolicy('first', { action: 'DENY', rules: [{}] }, 'shop'));
    lab.store.create('waypoints', waypoint('wp-a'));
    await until('status written and the Waypoint deployed', () => accepted('first')?.status === 'True' && lab.store.tryGet('deployments', 'shop', 'wp-a') !== undefined);
    await new Promise((r) => setTimeout(r, 4 * RETRY_MS));
    assert.ok(writes(a) > 0);
    assert.equal(writes(b), 0, 'the follower wrote nothing');
    assert.equal(b.leadership.isLeader, false);

    assert.deepEqual([await metric(a), await metric(b)], ['1', '0']);
    const [da, db] = [await debugLeader(a), await debugLeader(b)];
    assert.deepEqual([da.election, da.leading, da.leader], ['on', true, 'ctl-a']);
    assert.deepEqual([db.election, db.leading, db.leader, db.identity], ['on', false, 'ctl-a', 'ctl-b']);
    for (const ctl of [a, b]) assert.equal((await fetch(`http://127.0.0.1:${ctl.adminPort}/ready`)).status, 200, 'a follower serves agents, so it is ready');
  });

  it('when the leader dies without releasing, the other takes the Lease within its duration and writes what changed meanwhile', async () => {
    const a = running.get('ctl-a')!;
    const b = running.get('ctl-b')!;
    const renewedBefore = Date.now();
    await a.stop({ releaseLease: false });
    const killedAt = Date.now();
    running.delete('ctl-a');
    // Changes no replica writes for until the Lease expires.
    lab.store.create('authorizationpolicies', authorizationPolicy('while-leaderless', { action: 'DENY', rules: [{}] }, 'shop'));
    lab.store.create('waypoints', waypoint('wp-b'));

    await until('ctl-b leads', () => b.leadership.isLeader, LEASE_MS + NEXT_TRY_MS + 2_000);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs <= LEASE_MS + NEXT_TRY_MS, `took the Lease ${tookMs} ms after the leader died`);
    // ctl-a renewed at most a retry period before it died; ctl-b saw that renewal no earlier.
    assert.ok(Date.now() - renewedBefore >= LEASE_MS - RETRY_MS, `not before the Lease expired (${Date.now() - renewedBefore} ms)`);
    assert.deepEqual([lease()?.spec.holderIdentity, lease()?.spec.leaseTransitions], ['ctl-b', 1]);

    await until('the new leader caught up', () => accepted('while-leaderless')?.status === 'True' && lab.store.tryGet('deployments', 'shop', 'wp-b') !== undefined, 5_000);
    assert.ok(writes(b) > 0);
  });

  it('a graceful stop releases the Lease, and the follower takes over at its next try, well within a lease duration', async () => {
    const b = running.get('ctl-b')!;
    const c = await start('ctl-c');
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    assert.equal(c.leadership.isLeader, false);
    const stoppingAt = Date.now();
    await b.stop();
    running.delete('ctl-b');
    const releasedAt = Date.now();
    assert.equal(lease()?.spec.holderIdentity, '', 'released');
    await until('ctl-c leads', () => c.leadership.isLeader, LEASE_MS);
    const tookMs = Date.now() - releasedAt;
    assert.ok(tookMs <= NEXT_TRY_MS, `took over ${tookMs} ms after the release (the stop took ${releasedAt - stoppingAt} ms)`);
    assert.deepEqual([lease()?.spec.holderIdentity, lease()?.spec.leaseTransitions], ['ctl-c', 2]);

    lab.store.create('authorizationpolicies', authorizationPolicy('after-handover', { action: 'DENY', rules: [{}] }, 'shop'));
    await until('the new leader writes', () => accepted('after-handover')?.status === 'True');
  });
});
