import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fail, ok } from '../../lib/errors.js';
import { logger } from '../../lib/log.js';
import { manualTimers } from '../../lib/testing/manual-timers.js';
import { LeaderElector, timingProblem, type ElectionTiming } from './elector.js';
import type { LeaseLock, LeaseRecord, LockFailure } from './lock.js';

/**
 * The election state machine on a hand-driven clock, against an in-memory
 * Lease with the API server's optimistic concurrency: every lock remembers
 * the version it last read or wrote, and a write over any other is a conflict.
 */

const TIMING: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const START = Date.UTC(2030, 0, 1);

class FakeLeaseServer {
  record: LeaseRecord | undefined;
  version = 0;
  /** Requests fail while set; with 'hang', they never answer. */
  outage: false | 'error' | 'hang' = false;
  requests = 0;
  /** Fails the next requests one by one (a flaky API server), by this predicate. */
  flaky: (() => boolean) | undefined;

  lock(): LeaseLock {
    let seen: number | undefined;
    const server = this;
    const answer = async <T>(fn: () => T): Promise<T | ReturnType<typeof fail<LockFailure>>> => {
      server.requests++;
      await Promise.resolve();
      if (server.outage === 'hang') return new Promise<never>(() => undefined);
      if (server.outage === 'error' || server.flaky?.()) return fail({ reason: 'error', status: 503, message: 'the server is currently unable to handle the request' });
      return fn();
    };
    return {
      describe: 'Lease ambit-system/ambit-controller',
      get: () =>
        answer(() => {
          seen = server.record ? server.version : undefined;
          return ok(server.record && { ...server.record });
        }),
      create: (r) =>
        answer(() => {
          if (server.record) return fail({ reason: 'conflict' as const, status: 409, message: 'leases "ambit-controller" already exists' });
          server.record = { ...r };
          seen = ++server.version;
          return ok(undefined);
        }),
      update: (r) =>
        answer(() => {
          if (!server.record || seen !== server.version) return fail({ reason: 'conflict' as const, status: 409, message: 'the object has been modified' });
          server.record = { ...r };
          seen = ++server.version;
          return ok(undefined);
        }),
    };
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(timing: ElectionTiming = TIMING) {
  const timers = manualTimers(START);
  const server = new FakeLeaseServer();
  const changes: string[] = [];
  const elector = (identity: string, random = () => 0) => {
    const e = new LeaderElector({ ...timing, lock: server.lock(), identity, log: logger('test', 'leader'), timers, now: () => timers.now, random });
    e.onChange((leading) => changes.push(`${identity}:${leading ? 'leading' : 'stopped'}`));
    return e;
  };
  /**
   * Moves the clock timer by timer, letting what each starts settle before the
   * next (requests answer in no time), and checks that no two lead at once.
   */
  const advance = async (ms: number, electors: LeaderElector[] = []) => {
    const end = timers.now + ms;
    for (;;) {
      const next = timers.nextAt;
      timers.advance(Math.max(0, Math.min(next ?? end, end) - timers.now));
      for (let i = 0; i < 10; i++) await flush();
      assert.ok(electors.filter((e) => e.isLeader).length <= 1, `two leaders at ${timers.now - START} ms`);
      if (next === undefined || next >= end) break;
    }
    timers.advance(end - timers.now);
  };
  return { timers, server, changes, elector, advance, at: () => timers.now - START };
}

const at = (ms: number) => new Date(START + ms).toISOString();

describe('LeaderElector', () => {
  it('creates the Lease when there is none, and leads', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    a.start();
    await t.advance(50);
    assert.equal(a.isLeader, true);
    assert.deepEqual(t.changes, ['ctl-a:leading']);
    assert.deepEqual(t.server.record, { holderIdentity: 'ctl-a', leaseDurationSeconds: 15, acquireTime: at(0), renewTime: at(0), leaseTransitions: 0 });
    assert.equal(a.leader, 'ctl-a');
    await a.stop({ release: false });
  });

  it('renews every retry period with one request each, keeping acquireTime and transitions', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    a.start();
    await t.advance(50);
    const before = t.server.requests;
    await t.advance(6_000);
    assert.equal(t.server.requests - before, 3, 'an update each at 2, 4 and 6 s, no reads');
    assert.deepEqual(t.server.record, { holderIdentity: 'ctl-a', leaseDurationSeconds: 15, acquireTime: at(0), renewTime: at(6_000), leaseTransitions: 0 });
    assert.equal(a.status().renewedAt, at(6_000));
    await a.stop({ release: false });
  });

  it('does not take a Lease another replica holds and renews', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    a.start();
    await t.advance(50);
    const b = t.elector('ctl-b');
    b.start();
    await t.advance(60_000, [a, b]);
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    assert.equal(b.leader, 'ctl-a');
    assert.equal(b.status().state, 'candidate');
    assert.deepEqual(t.changes, ['ctl-a:leading']);
    await a.stop({ release: false });
    await b.stop({ release: false });
  });

  it('takes an expired Lease a lease duration after it last saw it change, whatever its timestamps say (clock skew)', async () => {
    const t = setup();
    // A holder whose clock runs a year ahead stopped renewing just now.
    const skewed = new Date(START + 365 * 86_400_000).toISOString();
    t.server.record = { holderIdentity: 'ctl-a', leaseDurationSeconds: 15, acquireTime: skewed, renewTime: skewed, leaseTransitions: 4 };
    t.server.version = 7;
    const b = t.elector('ctl-b');
    b.start();
    await t.advance(14_950, [b]);
    assert.equal(b.isLeader, false, 'the record has not been seen unchanged for 15 s yet');
    assert.equal(b.leader, 'ctl-a');
    await t.advance(2_100, [b]);
    assert.equal(b.isLeader, true, 'taken at the first try after 15 s');
    assert.deepEqual(t.server.record, { holderIdentity: 'ctl-b', leaseDurationSeconds: 15, acquireTime: at(16_000), renewTime: at(16_000), leaseTransitions: 5 });

    // And a holder whose clock lags is not taken over early either: its renewals are changes.
    const u = setup();
    const a = u.elector('ctl-a');
    const c = u.elector('ctl-c');
    a.start();
    await u.advance(50);
    c.start();
    await u.advance(30_000, [a, c]);
    assert.equal(c.isLeader, false);
    await a.stop({ release: false });
    await b.stop({ release: false });
    await c.stop({ release: false });
  });

  it('stops leading at the renew deadline when renewals fail, and leads again once it can renew', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    a.start();
    await t.advance(50);
    t.server.outage = 'error';
    await t.advance(9_900);
    assert.equal(a.isLeader, true, 'still within 10 s of the last renewal (sent at 0)');
    await t.advance(100);
    assert.equal(a.isLeader, false, 'at 10 s it stops, before the 15 s after which others may take over');
    assert.deepEqual(t.changes, ['ctl-a:leading', 'ctl-a:stopped']);
    assert.equal(a.status().state, 'candidate');
    t.server.outage = false;
    await t.advance(4_400);
    assert.equal(a.isLeader, true, 'nobody took it meanwhile: renewing over its own version succeeds');
    assert.equal(t.server.record?.leaseTransitions, 0, 'no change of hands');
    await a.stop({ release: false });
  });

  it('stops leading at the deadline even while a renewal hangs', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    a.start();
    await t.advance(50);
    t.server.outage = 'hang';
    await t.advance(10_000);
    assert.equal(a.isLeader, false);
    assert.deepEqual(t.changes, ['ctl-a:leading', 'ctl-a:stopped']);
  });

  it('hands over: the follower takes the Lease within the lease duration of a leader that dies', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    const b = t.elector('ctl-b');
    a.start();
    await t.advance(50);
    b.start();
    await t.advance(5_000, [a, b]);
    const diedAt = t.at();
    await a.stop({ release: false });
    const lastRenewal = Date.parse(t.server.record!.renewTime!) - START;
    for (let i = 0; i < 400 && !b.isLeader; i++) await t.advance(50, [a, b]);
    assert.equal(b.isLeader, true);
    assert.ok(t.at() - diedAt <= 15_000 + 2.2 * 2_000, `taken ${t.at() - diedAt} ms after the leader died`);
    assert.ok(t.at() - lastRenewal >= 15_000, 'not before a lease duration without renewal');
    assert.equal(t.server.record?.leaseTransitions, 1);
    await b.stop({ release: false });
  });

  it('releases on a graceful stop, and the follower takes over at its next try', async () => {
    const t = setup();
    const a = t.elector('ctl-a');
    const b = t.elector('ctl-b');
    a.start();
    await t.advance(50);
    b.start();
    await t.advance(5_000, [a, b]);
    await a.stop();
    assert.deepEqual(t.changes.slice(-1), ['ctl-a:stopped'], 'it stops leading before the release is written');
    assert.equal(t.server.record?.holderIdentity, '');
    assert.equal(t.server.record?.leaseDurationSeconds, 1);
    const releasedAt = t.at();
    for (let i = 0; i < 200 && !b.isLeader; i++) await t.advance(50, [a, b]);
    assert.equal(b.isLeader, true);
    assert.ok(t.at() - releasedAt <= 2.2 * 2_000 + 50, `taken ${t.at() - releasedAt} ms after the release`);
    assert.equal(t.server.record?.leaseTransitions, 1);
    await b.stop({ release: false });
  });

  it('does not release a Lease another replica holds', async () => {
    const t = setup();
    const b = t.elector('ctl-b');
    t.server.record = { holderIdentity: 'ctl-a', leaseDurationSeconds: 15, acquireTime: at(0), renewTime: at(0), leaseTransitions: 0 };
    b.start();
    await t.advance(1_000);
    const requests = t.server.requests;
    await b.stop();
    assert.equal(t.server.requests, requests);
    assert.equal(t.server.record?.holderIdentity, 'ctl-a');
  });

  it('of two replicas racing for a free Lease, exactly one wins; the other hears the conflict and follows', async () => {
    for (const initial of [undefined, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at(0), renewTime: at(0), leaseTransitions: 3 }]) {
      const t = setup();
      t.server.record = initial;
      const a = t.elector('ctl-a');
      const b = t.elector('ctl-b');
      // Same clock, no jitter: both try at 0, both read the same version.
      a.start();
      b.start();
      await t.advance(50, [a, b]);
      assert.equal([a, b].filter((e) => e.isLeader).length, 1, initial ? 'update race' : 'create race');
      const [winner, loser] = a.isLeader ? [a, b] : [b, a];
      assert.equal(t.server.record?.leaseTransitions, initial ? 4 : 0);
      await t.advance(30_000, [a, b]);
      assert.equal(winner.isLeader, true);
      assert.equal(loser.leader, winner.status().identity, 'the loser reads who won at its next try');
      await a.stop({ release: false });
      await b.stop({ release: false });
    }
  });

  it('never has two leaders on a flaky API server', async () => {
    const t = setup();
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    t.server.flaky = () => random() < 0.75;
    const electors = ['ctl-a', 'ctl-b', 'ctl-c'].map((id) => t.elector(id, random));
    for (const e of electors) e.start();
    await t.advance(300_000, electors);
    assert.ok(t.changes.length > 2, `leadership changed hands: ${t.changes.join(', ')}`);
    for (const e of electors) await e.stop({ release: false });
  });

  it('refuses timing that could let two replicas lead', () => {
    assert.equal(timingProblem(TIMING), undefined);
    assert.match(timingProblem({ ...TIMING, renewDeadlineMs: 15_000 })!, /longer than the renew deadline/);
    assert.match(timingProblem({ ...TIMING, renewDeadlineMs: 2_400 })!, /1.2 retry periods/);
    assert.match(timingProblem({ ...TIMING, leaseDurationMs: 1_500 })!, /whole seconds/);
    assert.match(timingProblem({ ...TIMING, retryPeriodMs: 0 })!, /positive/);
    assert.throws(() => new LeaderElector({ ...TIMING, renewDeadlineMs: 20_000, lock: new FakeLeaseServer().lock(), identity: 'x', log: logger('test', 'leader') }), /leader election: the lease duration must be longer/);
  });
});
