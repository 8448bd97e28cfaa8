import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualTimers } from '../../lib/testing/manual-timers.js';
import { Debouncer } from './debounce.js';
import { loadAmbitProtos } from '../../lib/xds/proto.js';
import type { ConfigMessage, Workload } from '../../lib/xds/types.js';
import type { Scope } from '../model/scope.js';
import { encodeConfigMessage, encodeUpsert } from './encode.js';
import { FullStateBudget } from './full-states.js';
import { canonicalJson, TypeTable } from './table.js';

const pa = (name: string, mode: 'STRICT' | 'PERMISSIVE') => ({ namespace: 'ns', name, scope: 'NAMESPACE' as const, selector: null, mode, portLevelMtls: [] });
const wl = (uid: string, node: string, meshed: boolean): Workload => ({
  uid,
  namespace: 'ns',
  name: uid,
  serviceAccount: 'default',
  node,
  ip: '10.0.0.1',
  meshed,
  labels: { app: uid },
  workloadName: uid,
  identity: 'spiffe://cluster.local/ns/ns/sa/default',
  waypoint: null,
});
const byContent = (w: Workload): Scope => (w.meshed ? 'all' : new Set([w.node]));

describe('type tables', () => {
  it('versions depend on content only, not on key or insertion order', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    const table = (entries: [string, ReturnType<typeof pa>][]) => {
      const t = new TypeTable('PeerAuthentication');
      t.update(new Map(entries), () => 'all', false);
      return t;
    };
    const one = table([['ns/a', pa('a', 'STRICT')], ['ns/b', pa('b', 'STRICT')]]);
    const two = table([['ns/b', pa('b', 'STRICT')], ['ns/a', pa('a', 'STRICT')]]);
    assert.equal(one.version('node-1'), two.version('node-9'));
    const changed = table([['ns/a', pa('a', 'PERMISSIVE')], ['ns/c', pa('c', 'STRICT')]]);
    assert.notEqual(changed.version('node-1'), one.version('node-1'));
    assert.deepEqual(changed.diff('node-1', one.hashes('node-1'), -1), { upserts: ['ns/a', 'ns/c'], removals: ['ns/b'] });
    assert.deepEqual(two.diff('node-1', one.hashes('node-1'), -1), { upserts: [], removals: [] });
  });

  it("a node's view is what every agent gets plus its own; other nodes' versions stay put when only its part changes", () => {
    const t = new TypeTable('Workload');
    const a1 = wl('a1', 'node-a', true);
    const b1 = wl('b1', 'node-b', false);
    t.update(new Map([['a1', a1], ['b1', b1]]), byContent, false);
    assert.deepEqual([...t.names('node-a')].sort(), ['a1']);
    assert.deepEqual([...t.names('node-b')].sort(), ['a1', 'b1']);
    const [va, vb, gen] = [t.version('node-a'), t.version('node-b'), t.generation];
    const heldByA = t.hashes('node-a');

    // A new unmeshed pod on node-b: node-b's view moves, node-a's does not.
    t.update(new Map([['a1', a1], ['b1', b1], ['b2', wl('b2', 'node-b', false)]]), byContent, false);
    assert.equal(t.version('node-a'), va);
    assert.notEqual(t.version('node-b'), vb);
    assert.deepEqual(t.diff('node-a', heldByA, gen), { upserts: [], removals: [] });

    // It joins the mesh: now every agent gets it.
    t.update(new Map([['a1', a1], ['b1', b1], ['b2', wl('b2', 'node-b', true)]]), byContent, false);
    assert.notEqual(t.version('node-a'), va);
    assert.deepEqual(t.diff('node-a', heldByA, gen), { upserts: ['b2'], removals: [] });
    // The same object again changes nothing; a new object with equal content changes no version either.
    const g = t.generation;
    t.update(new Map([['a1', a1], ['b1', b1], ['b2', wl('b2', 'node-b', true)]]), byContent, false);
    assert.equal(t.generation, g);
  });

  it('diffs from the change log match a full diff, also once the log no longer reaches back', () => {
    const t = new TypeTable('Workload');
    const pods = new Map<string, Workload>();
    for (let i = 0; i < 20; i++) pods.set(`p${i}`, wl(`p${i}`, `node-${i % 3}`, i % 2 === 0));
    t.update(pods, byContent, false);
    const [since, held] = [t.generation, t.hashes('node-1')];
    // Relabel pods one at a time until the log (bounded by the table's size) has dropped the start.
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 20; i++) pods.set(`p${i}`, { ...wl(`p${i}`, `node-${i % 3}`, (i + round) % 2 === 0), labels: { round: String(round) } });
      t.update(pods, byContent, false);
    }
    const full = t.diff('node-1', held, -1);
    assert.deepEqual(t.diff('node-1', held, since), full);
    assert.equal(full.upserts.length, [...t.names('node-1')].length, 'every pod it sees was relabelled');
    const g = t.generation;
    const before = t.hashes('node-1');
    const gone = [...t.names('node-1')][0]!;
    pods.delete(gone);
    pods.set('p3', { ...wl('p3', 'node-1', true), labels: { moved: 'yes' } });
    t.update(pods, byContent, false);
    assert.deepEqual(t.diff('node-1', before, g), { upserts: ['p3'], removals: [gone].filter((n) => n !== 'p3') });
  });

  it("re-scoping moves a resource into and out of nodes' views without a content change", () => {
    const t = new TypeTable('PeerAuthentication');
    const p = new Map([['ns/a', pa('a', 'STRICT')]]);
    let where: Scope = new Set(['node-a']);
    t.update(p, () => where, false);
    const gen = t.generation;
    const [heldA, heldB] = [t.hashes('node-a'), t.hashes('node-b')];
    where = new Set(['node-b']);
    t.update(p, () => where, true);
    assert.deepEqual(t.diff('node-a', heldA, gen), { upserts: [], removals: ['ns/a'] });
    assert.deepEqual(t.diff('node-b', heldB, gen), { upserts: ['ns/a'], removals: [] });
  });
});

describe('pre-encoded config messages', () => {
  it('decode to the same message as one encoded whole', () => {
    const { responseSerialize, responseDeserialize } = loadAmbitProtos().meshConfig.Stream!;
    const w = wl('a1', 'node-a', true);
    const whole: ConfigMessage = { type: 'Workload', version: 'v1', nonce: '1-1', upserts: [{ name: 'a1', workload: w }], removals: ['gone'], fullState: false };
    const pieces = encodeConfigMessage({ type: 'Workload', version: 'v1', nonce: '1-1', removals: ['gone'], fullState: false }, [encodeUpsert('Workload', 'a1', w)]);
    assert.deepEqual(responseDeserialize(pieces), responseDeserialize(responseSerialize(whole)));
  });
});

describe('FullStateBudget', () => {
  it('lets `limit` full states fly, then wakes the waiting in order as slots free', () => {
    const budget = new FullStateBudget(2);
    const woken: string[] = [];
    const conn = (name: string) => {
      const wake = () => {
        woken.push(name);
        budget.take(wake);
      };
      return wake;
    };
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(conn) as [() => void, () => void, () => void, () => void];
    assert.equal(budget.take(a), true);
    assert.equal(budget.take(b), true);
    assert.equal(budget.take(c), false);
    assert.equal(budget.take(d), false);
    budget.forget(d); // its stream ended
    budget.release();
    assert.deepEqual(woken, ['c'], 'c took the freed slot; d is gone');
    assert.equal(budget.inUse, 2);
    budget.release();
    budget.release();
    assert.equal(budget.inUse, 0);
  });
});

describe('Debouncer', () => {
  const debouncer = (quietMs: number, maxDelayMs: number, firstMs = 0, did: () => boolean = () => true) => {
    const timers = manualTimers();
    const runs: number[] = [];
    const d = new Debouncer((started) => (runs.push(started), did()), { quietMs, maxDelayMs, firstMs, timers, now: () => timers.now });
    return { timers, runs, d };
  };

  it('runs a change after a quiet spell after firstMs, together with what came meanwhile', () => {
    const { timers, runs, d } = debouncer(100, 1000, 10);
    timers.advance(500);
    d.trigger();
    timers.advance(5);
    d.trigger();
    timers.advance(4);
    assert.deepEqual(runs, []);
    timers.advance(1);
    assert.deepEqual(runs, [500], 'one run, 10 ms after the first trigger, not 100 ms after the last');
  });

  it('coalesces what follows a run into one run after the quiet period', () => {
    const { timers, runs, d } = debouncer(100, 1000);
    d.trigger();
    timers.advance(10);
    d.trigger();
    timers.advance(50);
    d.trigger();
    timers.advance(99);
    assert.deepEqual(runs, [0]);
    timers.advance(1);
    assert.deepEqual(runs, [0, 10], 'the burst ran once, stamped with its start');
    timers.advance(100);
    d.trigger();
    timers.advance(0);
    assert.deepEqual(runs, [0, 10, 260], 'quiet again: at once');
  });

  it('does not count a run that found nothing to do as the end of a quiet spell', () => {
    let did = false;
    const { timers, runs, d } = debouncer(100, 1000, 0, () => did);
    d.trigger();
    timers.advance(50);
    did = true;
    d.trigger();
    timers.advance(0);
    assert.deepEqual(runs, [0, 50], 'the second change went out at once');
  });

  it('runs at the latest maxDelay after the first trigger of a steady stream', () => {
    const { timers, runs, d } = debouncer(100, 300);
    for (let i = 0; i < 10; i++) {
      d.trigger();
      timers.advance(50);
    }
    assert.deepEqual(runs, [0, 50], 'at once, then the burst begun at 50 ms ran at 350 ms although triggers kept coming');
    timers.advance(100);
    assert.deepEqual(runs, [0, 50, 350], 'the next one, begun right after, ran once it went quiet');
    d.trigger();
    d.cancel();
    timers.advance(1000);
    assert.equal(runs.length, 3, 'a cancelled burst never runs');
  });
});
