import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionPool } from '../../lib/xds/index.js';
import { PoolLimiter, type Admission } from './pool.js';
import type { Release } from './types.js';

const pool = (maxConnections: number, maxPendingRequests: number): ConnectionPool => ({ maxConnections, maxPendingRequests, maxRequestsPerConnection: 0, connectTimeoutMs: 0 });

function ready(a: Admission): Release {
  assert.equal(a.kind, 'ready');
  return (a as Extract<Admission, { kind: 'ready' }>).release;
}
function queued(a: Admission) {
  assert.equal(a.kind, 'queued');
  return a as Extract<Admission, { kind: 'queued' }>;
}
/** Whether a promise has settled, after pending microtasks ran. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  const marker = Symbol('pending');
  const v = await Promise.race([p, Promise.resolve().then(() => marker)]);
  return v === marker ? { done: false } : { done: true, value: v as T };
}

describe('connection pool limits', () => {
  test('no limits: every request is ready at once, and still counted', () => {
    const p = new PoolLimiter(null);
    const releases = Array.from({ length: 1000 }, () => ready(p.acquire()));
    assert.equal(p.stats().active, 1000);
    releases.forEach((r) => r());
    assert.deepEqual(p.stats(), { active: 0, pending: 0, overflowed: 0, abandoned: 0 });
  });

  test('maxConnections in flight, then up to maxPendingRequests wait, then overflow', () => {
    const p = new PoolLimiter(pool(2, 1));
    ready(p.acquire());
    ready(p.acquire());
    queued(p.acquire());
    assert.equal(p.acquire().kind, 'overflow');
    assert.equal(p.acquire().kind, 'overflow');
    assert.deepEqual(p.stats(), { active: 2, pending: 1, overflowed: 2, abandoned: 0 });
  });

  test('maxPendingRequests 0 is unlimited (Istio’s default)', () => {
    const p = new PoolLimiter(pool(1, 0));
    ready(p.acquire());
    for (let i = 0; i < 100; i++) queued(p.acquire());
    assert.equal(p.stats().pending, 100);
  });

  test('a released slot goes to the first waiter, in order', async () => {
    const p = new PoolLimiter(pool(1, 10));
    const first = ready(p.acquire());
    const w1 = queued(p.acquire());
    const w2 = queued(p.acquire());
    assert.equal((await settled(w1.ready)).done, false);
    first();
    const r1 = await w1.ready;
    assert.ok(r1);
    assert.equal((await settled(w2.ready)).done, false, 'the second still waits');
    assert.deepEqual(p.stats(), { active: 1, pending: 1, overflowed: 0, abandoned: 0 });
    r1();
    assert.ok(await w2.ready);
  });

  test('a newcomer does not jump the queue when a slot frees', async () => {
    const p = new PoolLimiter(pool(1, 10));
    const first = ready(p.acquire());
    const w = queued(p.acquire());
    first();
    assert.equal(p.acquire().kind, 'queued', 'the slot was handed to the waiter already');
    assert.ok(await w.ready);
  });

  test('abandoning while waiting leaks nothing and resolves undefined', async () => {
    const p = new PoolLimiter(pool(1, 2));
    const first = ready(p.acquire());
    const gone = queued(p.acquire());
    const next = queued(p.acquire());
    gone.abandon();
    gone.abandon();
    assert.equal(await gone.ready, undefined);
    assert.deepEqual(p.stats(), { active: 1, pending: 1, overflowed: 0, abandoned: 1 });
    first();
    const r = await next.ready;
    assert.ok(r);
    r();
    assert.deepEqual(p.stats(), { active: 0, pending: 0, overflowed: 0, abandoned: 1 });
  });

  test('abandoning after the slot was granted gives it back', async () => {
    const p = new PoolLimiter(pool(1, 2));
    const first = ready(p.acquire());
    const w = queued(p.acquire());
    first(); // granted to w, before its continuation ran
    w.abandon();
    assert.equal(p.stats().active, 0);
    const r = await w.ready;
    r!(); // the caller's own release later is harmless
    assert.equal(p.stats().active, 0);
    ready(p.acquire());
  });

  test('a release called twice frees one slot', () => {
    const p = new PoolLimiter(pool(2, 0));
    const a = ready(p.acquire());
    ready(p.acquire());
    a();
    a();
    assert.equal(p.stats().active, 1);
    ready(p.acquire());
    queued(p.acquire());
  });

  test('raising the limit admits waiters; lowering it keeps requests in flight', async () => {
    const p = new PoolLimiter(pool(1, 5));
    const first = ready(p.acquire());
    const w1 = queued(p.acquire());
    const w2 = queued(p.acquire());
    p.configure(pool(3, 5));
    assert.ok(await w1.ready);
    assert.ok(await w2.ready);
    p.configure(pool(1, 5));
    assert.equal(p.stats().active, 3);
    const w3 = queued(p.acquire());
    first();
    assert.equal((await settled(w3.ready)).done, false, 'still 2 in flight, above the new limit');
    p.configure(null);
    assert.ok(await w3.ready);
  });
});
