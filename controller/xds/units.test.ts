import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualTimers } from '../../lib/testing/manual-timers.js';
import { Debouncer } from './debounce.js';
import { buildSnapshot, canonicalJson, diffSnapshot, hashesOf } from './snapshot.js';

const pa = (name: string, mode: 'STRICT' | 'PERMISSIVE') => ({ namespace: 'ns', name, scope: 'NAMESPACE' as const, selector: null, mode, portLevelMtls: [] });

describe('snapshots', () => {
  it('versions depend on content only, not on key or insertion order', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    const one = buildSnapshot('PeerAuthentication', new Map([['ns/a', pa('a', 'STRICT')], ['ns/b', pa('b', 'STRICT')]]));
    const two = buildSnapshot('PeerAuthentication', new Map([['ns/b', pa('b', 'STRICT')], ['ns/a', pa('a', 'STRICT')]]));
    assert.equal(one.version, two.version);
    const changed = buildSnapshot('PeerAuthentication', new Map([['ns/a', pa('a', 'PERMISSIVE')], ['ns/c', pa('c', 'STRICT')]]));
    assert.notEqual(changed.version, one.version);
    assert.deepEqual(diffSnapshot(hashesOf(one), changed), { upserts: ['ns/a', 'ns/c'], removals: ['ns/b'] });
    assert.deepEqual(diffSnapshot(hashesOf(one), two), { upserts: [], removals: [] });
  });
});

describe('Debouncer', () => {
  it('coalesces a burst into one run after the quiet period', () => {
    const timers = manualTimers();
    const runs: number[] = [];
    const d = new Debouncer((started) => runs.push(started), { quietMs: 100, maxDelayMs: 1000, timers, now: () => timers.now });
    d.trigger();
    timers.advance(50);
    d.trigger();
    timers.advance(99);
    assert.deepEqual(runs, []);
    timers.advance(1);
    assert.deepEqual(runs, [0], 'one run, stamped with the start of the burst');
  });

  it('runs at the latest maxDelay after the first trigger of a steady stream', () => {
    const timers = manualTimers();
    const runs: number[] = [];
    const d = new Debouncer((started) => runs.push(started), { quietMs: 100, maxDelayMs: 300, timers, now: () => timers.now });
    for (let i = 0; i < 10; i++) {
      d.trigger();
      timers.advance(50);
    }
    assert.deepEqual(runs, [0], 'the first burst ran at 300 ms although triggers kept coming');
    timers.advance(100);
    assert.deepEqual(runs, [0, 300], 'the second burst, begun at 300 ms, ran once it went quiet');
    d.trigger();
    d.cancel();
    timers.advance(1000);
    assert.equal(runs.length, 2, 'a cancelled burst never runs');
  });
});
