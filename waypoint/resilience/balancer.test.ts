import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../lib/testing/seeded-random.js';
import { createPicker, HashRing, hash32, LeastRequestPicker, RingHashPicker, RoundRobinPicker } from './balancer.js';

const eps = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:8080`);
const picks = (p: { pick(c: readonly string[]): string | undefined }, c: readonly string[], n: number) => Array.from({ length: n }, () => p.pick(c));

describe('picker factory', () => {
  test('one picker per policy; none picks from an empty list', () => {
    assert.ok(createPicker('ROUND_ROBIN') instanceof RoundRobinPicker);
    assert.ok(createPicker('LEAST_REQUEST') instanceof LeastRequestPicker);
    assert.ok(createPicker('CONSISTENT_HASH') instanceof RingHashPicker);
    for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'CONSISTENT_HASH'] as const) {
      assert.equal(createPicker(policy).pick([], 'x'), undefined);
      assert.equal(createPicker(policy).pick(['a:1'], 'x'), 'a:1');
    }
  });
});

describe('round robin', () => {
  test('each in turn, from a random start', () => {
    const p = new RoundRobinPicker(() => 0.5);
    assert.deepEqual(picks(p, ['a', 'b', 'c', 'd'], 6), ['c', 'd', 'a', 'b', 'c', 'd']);
  });

  test('carries on after the last pick when that one is removed', () => {
    const p = new RoundRobinPicker(() => 0);
    assert.deepEqual(picks(p, ['a', 'b', 'c', 'd'], 2), ['a', 'b']);
    assert.deepEqual(picks(p, ['a', 'c', 'd'], 3), ['c', 'd', 'a']);
  });

  test('carries on after the last pick when others come, go or move', () => {
    const p = new RoundRobinPicker(() => 0);
    assert.deepEqual(picks(p, ['a', 'b', 'c'], 2), ['a', 'b']);
    assert.deepEqual(picks(p, ['x', 'a', 'b', 'y', 'c'], 3), ['y', 'c', 'x'], 'after b: y (new), then c');
    assert.deepEqual(picks(p, ['c', 'a', 'x'], 2), ['c', 'a'], 'x moved to the end: after it, wrapping, c');
  });

  test('the last pick removed from the end wraps to the start', () => {
    const p = new RoundRobinPicker(() => 0);
    assert.deepEqual(picks(p, ['a', 'b', 'c'], 3), ['a', 'b', 'c']);
    assert.deepEqual(picks(p, ['a', 'b'], 2), ['a', 'b']);
  });

  test('even over a long run with changes', () => {
    const p = new RoundRobinPicker(seededRandom(1));
    const all = eps(5);
    const count = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const list = i % 100 < 50 ? all : all.filter((k) => k !== all[2]);
      const k = p.pick(list)!;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    for (const [k, n] of count) assert.ok(k === all[2] ? n === 100 : n >= 215 && n <= 235, `${k}: ${n}`);
  });
});

describe('least request', () => {
  test('of two random candidates, the one with fewer in flight', () => {
    // Draws: 0.0 -> index 0 ('a'); 0.5 of the 2 others -> 1 -> skips 0 -> 'c'.
    const draws = [0.0, 0.5];
    const p = new LeastRequestPicker(() => draws.shift()!);
    p.start('a');
    assert.equal(p.pick(['a', 'b', 'c']), 'c');
  });

  test('two distinct candidates: with two endpoints the less loaded always wins', () => {
    const p = new LeastRequestPicker(seededRandom(7));
    p.start('a');
    for (let i = 0; i < 50; i++) assert.equal(p.pick(['a', 'b']), 'b');
  });

  test('in-flight counts follow start/finish and never go negative', () => {
    const p = new LeastRequestPicker();
    p.start('a');
    p.start('a');
    p.finish('a');
    assert.equal(p.active('a'), 1);
    p.finish('a');
    p.finish('a');
    p.finish('b');
    assert.equal(p.active('a'), 0);
    assert.equal(p.active('b'), 0);
  });

  test('steers load away from a slow endpoint', () => {
    const p = new LeastRequestPicker(seededRandom(3));
    const c = eps(4);
    for (let i = 0; i < 20; i++) p.start(c[0]!); // c[0] is slow: 20 stuck requests
    const n = picks(p, c, 300).filter((k) => k === c[0]).length;
    assert.equal(n, 0, 'the slow endpoint loses every comparison');
  });
});

describe('consistent hash', () => {
  test('the same key goes to the same endpoint, whatever the candidate order', () => {
    const c = eps(8);
    const p = new RingHashPicker();
    const q = new RingHashPicker();
    const reversed = [...c].reverse();
    for (let i = 0; i < 200; i++) assert.equal(p.pick(c, `user-${i}`), q.pick(reversed, `user-${i}`));
  });

  test('spreads keys over the endpoints', () => {
    const c = eps(8);
    const p = new RingHashPicker();
    const count = new Map<string, number>();
    for (let i = 0; i < 16000; i++) {
      const k = p.pick(c, `session-${i}`)!;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    assert.equal(count.size, 8);
    for (const [k, n] of count) assert.ok(n > 2000 * 0.7 && n < 2000 * 1.3, `${k} got ${n} of 16000`);
  });

  test('removing one of N endpoints moves only its own keys (about 1/N), and adding it back restores them', () => {
    const c = eps(10);
    const p = new RingHashPicker();
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
    const before = keys.map((k) => p.pick(c, k));
    const removed = c[3]!;
    const fewer = c.filter((k) => k !== removed);
    const after = keys.map((k) => p.pick(fewer, k));
    let moved = 0;
    keys.forEach((_, i) => {
      if (before[i] !== after[i]) {
        moved++;
        assert.equal(before[i], removed, 'only keys of the removed endpoint move');
      }
    });
    assert.ok(moved > 5000 * 0.06 && moved < 5000 * 0.14, `moved ${moved} of 5000`);
    assert.deepEqual(keys.map((k) => p.pick(c, k)), before);
  });

  test('a request without the header gets a random candidate', () => {
    const p = new RingHashPicker(() => 0.99);
    assert.equal(p.pick(['a', 'b', 'c']), 'c');
    assert.equal(p.pick(['a', 'b', 'c'], ''), p.pick(['c', 'b', 'a'], ''), 'an empty value is a value');
  });

  test('an ejection (a subset) reuses the ring and answers as a ring of the subset would', () => {
    const p = new RingHashPicker();
    const ringOf = () => (p as unknown as { ring: HashRing }).ring;
    const c = eps(6);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    keys.forEach((k) => p.pick(c, k));
    const ring = ringOf();
    p.pick([...c].reverse(), 'x');
    assert.equal(ringOf(), ring, 'same set, another order');
    const subset = c.filter((_, i) => i !== 1 && i !== 4);
    const fresh = new RingHashPicker();
    for (const k of keys) assert.equal(p.pick(subset, k), fresh.pick(subset, k));
    assert.equal(ringOf(), ring, 'a subset is served by skipping');
    p.pick([...c, '10.9.9.9:80'], 'x');
    assert.notEqual(ringOf(), ring, 'a newcomer rebuilds');
    p.pick(c.slice(0, 2), 'x');
    assert.equal(ringOf().size, 2, 'a ring more than twice the candidates is rebuilt');
  });

  test('ring lookup skips points whose owner is not accepted', () => {
    const ring = new HashRing(['a', 'b', 'c']);
    for (let h = 0; h < 2 ** 32; h += 2 ** 24) {
      const owner = ring.lookup(h)!;
      assert.notEqual(ring.lookup(h, new Set(['a', 'b', 'c'].filter((k) => k !== owner))), owner);
      assert.equal(ring.lookup(h, new Set([owner])), owner);
    }
    assert.equal(ring.lookup(1, new Set(['z'])), undefined);
  });

  test('ring lookup wraps round past the last point', () => {
    const ring = new HashRing(['a', 'b'], 4);
    assert.ok(['a', 'b'].includes(ring.lookup(0xffffffff)!));
    assert.equal(ring.lookup(0xffffffff), ring.lookup(0));
    assert.equal(new HashRing([]).lookup(5), undefined);
  });

  test('hash32 is a stable 32-bit hash', () => {
    assert.equal(hash32('abc'), hash32('abc'));
    assert.notEqual(hash32('abc'), hash32('abd'));
    for (const s of ['', 'x', 'é', '10.0.0.1:80']) assert.ok(Number.isInteger(hash32(s)) && hash32(s) >= 0 && hash32(s) < 2 ** 32);
  });
});
