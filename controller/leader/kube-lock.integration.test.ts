import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { namespace, startLab, type Lab } from '../fixtures.js';
import { kubeLeaseLock } from './kube-lock.js';
import type { LeaseRecord } from './lock.js';

/**
 * The Lease lock through @kubernetes/client-node against the lab API server,
 * which serves coordination.k8s.io/v1 Leases with the real one's optimistic
 * concurrency: a write over a stale resourceVersion is a 409 Conflict.
 */

const record = (holder: string, renewTime: string): LeaseRecord => ({ holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: '2030-01-01T00:00:00.000Z', renewTime, leaseTransitions: 0 });

describe('kubeLeaseLock against the lab API server', () => {
  let lab: Lab;
  const lock = () => kubeLeaseLock({ kc: lab.kc, namespace: 'ambit-system', name: 'ambit-controller', requestTimeoutMs: 5_000 });

  before(async () => {
    lab = await startLab();
    lab.store.create('namespaces', namespace('ambit-system'));
  });
  after(async () => {
    await lab?.close();
  });

  it('reads none, creates once (the second create is a conflict), and writes microsecond timestamps', async () => {
    const a = lock();
    const b = lock();
    assert.deepEqual(await a.get(), { ok: true, value: undefined });
    assert.deepEqual(await b.get(), { ok: true, value: undefined });
    assert.deepEqual(await a.create(record('ctl-a', '2030-01-01T00:00:01.250Z')), { ok: true, value: undefined });
    const lost = await b.create(record('ctl-b', '2030-01-01T00:00:01.300Z'));
    assert.equal(lost.ok, false);
    assert.equal(!lost.ok && lost.error.reason, 'conflict');
    const stored = lab.store.tryGet('leases', 'ambit-system', 'ambit-controller') as { spec: Record<string, unknown> } | undefined;
    assert.deepEqual(stored?.spec, { holderIdentity: 'ctl-a', leaseDurationSeconds: 15, acquireTime: '2030-01-01T00:00:00.000000Z', renewTime: '2030-01-01T00:00:01.250000Z', leaseTransitions: 0 });
    const read = await b.get();
    assert.ok(read.ok);
    assert.equal(read.value?.holderIdentity, 'ctl-a');
    assert.equal(Date.parse(read.value!.renewTime!), Date.parse('2030-01-01T00:00:01.250Z'));
  });

  it('updates over the version last read or written: of two writers from one read, the second conflicts', async () => {
    const a = lock();
    const b = lock();
    assert.ok((await a.get()).ok);
    assert.ok((await b.get()).ok);
    assert.deepEqual(await a.update(record('ctl-a', '2030-01-01T00:00:02.000Z')), { ok: true, value: undefined });
    assert.deepEqual(await a.update(record('ctl-a', '2030-01-01T00:00:04.000Z')), { ok: true, value: undefined }, 'over its own write, no read needed');
    const stale = await b.update(record('ctl-b', '2030-01-01T00:00:04.100Z'));
    assert.deepEqual(stale.ok ? undefined : [stale.error.reason, stale.error.status], ['conflict', 409]);
    assert.ok((await b.get()).ok);
    assert.deepEqual(await b.update(record('ctl-b', '2030-01-01T00:00:05.000Z')), { ok: true, value: undefined }, 'after reading again');
    assert.equal((lab.store.tryGet('leases', 'ambit-system', 'ambit-controller') as { spec: { holderIdentity: string } } | undefined)?.spec.holderIdentity, 'ctl-b');
  });

  it('refuses to update before reading, and reports an unreachable API server as an error', async () => {
    const fresh = lock();
    const r = await fresh.update(record('ctl-a', '2030-01-01T00:00:06.000Z'));
    assert.deepEqual(r.ok ? undefined : r.error.reason, 'error');
    const down = await startLab();
    const gone = kubeLeaseLock({ kc: down.kc, namespace: 'ambit-system', name: 'x', requestTimeoutMs: 1_000 });
    await down.close();
    const g = await gone.get();
    assert.deepEqual(g.ok ? undefined : g.error.reason, 'error');
  });
});
