import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualTimers } from '../lib/testing/manual-timers.js';
import type { Leadership } from './leader/index.js';
import { ReconcileLoop, type ReconcileLoopOptions } from './reconcile-loop.js';

/** Lets the promises a timer started settle. */
const flush = () => new Promise((r) => setImmediate(r));

/**
 * A loop on manual timers whose passes return the failures queued in
 * `results` (0 once they run out), or wait for `release()` when `hold` is set.
 */
function setup(opts: Partial<ReconcileLoopOptions> = {}) {
  const timers = manualTimers(1_000_000);
  const results: (number | Error)[] = [];
  const passes: number[] = [];
  const errors: unknown[] = [];
  const backoff = { delays: [] as number[], resets: 0, nextMs: 1000 };
  let hold = false;
  let release: (() => void) | undefined;
  const loop = new ReconcileLoop({
    pass: async () => {
      passes.push(timers.now);
      if (hold) await new Promise<void>((r) => (release = r));
      const r = results.shift() ?? 0;
      if (r instanceof Error) throw r;
      return r;
    },
    onError: (err) => void errors.push(err),
    timers,
    now: () => timers.now,
    backoff: {
      next: () => (backoff.delays.push(backoff.nextMs), backoff.nextMs),
      reset: () => void backoff.resets++,
    },
    ...opts,
  });
  return {
    loop,
    timers,
    results,
    passes,
    errors,
    backoff,
    /** Passes wait for `release` from now on. */
    hold: () => (hold = true),
    release: async () => {
      hold = false;
      release?.();
      await flush();
    },
    /** Advances the clock and lets what it started settle. */
    advance: async (ms: number) => {
      timers.advance(ms);
      await flush();
    },
    /** Times of passes since the clock's start, in ms. */
    at: () => passes.map((t) => t - 1_000_000),
  };
}

describe('ReconcileLoop', () => {
  it('runs one pass at a time: changes during a pass run a single pass after it', async () => {
    const t = setup();
    t.hold();
    const first = t.loop.run();
    await flush();
    assert.equal(t.passes.length, 1);
    // Three changes while the pass runs: each returns at once, none starts a pass beside it.
    await Promise.all([t.loop.run(), t.loop.run(), t.loop.run()]);
    t.loop.schedule(0);
    await t.advance(0);
    assert.equal(t.passes.length, 1, 'no pass beside the running one');
    await t.release();
    await first;
    assert.equal(t.passes.length, 2, 'one more pass for all the changes');
    await t.advance(60 * 60_000);
    assert.equal(t.passes.length, 2, 'and nothing after it without a resync');
    assert.equal(t.timers.pending, 0);
  });

  it('retries after failures with backoff, and starts the backoff over after a pass without any', async () => {
    const t = setup({ resyncMs: 60_000 });
    t.results.push(2, 1, 0);
    t.backoff.nextMs = 500;
    await t.loop.run();
    assert.deepEqual(t.backoff.delays, [500]);
    await t.advance(499);
    assert.equal(t.passes.length, 1, 'not before the backoff');
    t.backoff.nextMs = 1000;
    await t.advance(1);
    assert.deepEqual(t.at(), [0, 500]);
    await t.advance(1000);
    assert.deepEqual(t.at(), [0, 500, 1500]);
    assert.deepEqual(t.backoff.delays, [500, 1000]);
    assert.equal(t.backoff.resets, 1, 'reset after the pass that succeeded');
    // Then a full pass every resyncMs.
    await t.advance(60_000);
    assert.deepEqual(t.at(), [0, 500, 1500, 61_500]);
    assert.equal(t.backoff.resets, 2);
    assert.equal(t.timers.pending, 1);
    t.loop.stop();
  });

  it('retries a pass that threw, and reports what it threw', async () => {
    const t = setup();
    const bug = new Error('bug');
    t.results.push(bug);
    await t.loop.run();
    assert.deepEqual(t.errors, [bug]);
    assert.deepEqual(t.backoff.delays, [1000]);
    await t.advance(1000);
    assert.deepEqual(t.at(), [0, 1000]);
    assert.equal(t.backoff.resets, 1);
  });

  it('never pushes back a pass due sooner: a change during a failing pass runs after its debounce, not the backoff', async () => {
    const t = setup({ resyncMs: 60_000, debounceMs: 100 });
    t.results.push(1);
    t.backoff.nextMs = 30_000;
    t.hold();
    t.loop.schedule(0);
    await t.advance(0);
    t.loop.changed(); // during the pass
    await t.release();
    assert.deepEqual(t.backoff.delays, [30_000], 'the failure asked for a retry');
    await t.advance(100);
    assert.deepEqual(t.at(), [0, 100], 'the change ran after its debounce');
    // That pass succeeded: the resync is next, not the backoff.
    await t.advance(59_999);
    assert.deepEqual(t.at(), [0, 100]);
    await t.advance(1);
    assert.deepEqual(t.at(), [0, 100, 60_100]);
    t.loop.stop();
  });

  it('lets a sooner schedule replace a later one, and debounces bursts of changes', async () => {
    const t = setup({ debounceMs: 50 });
    t.loop.schedule(5000);
    t.loop.schedule(50, true);
    await t.advance(50);
    assert.deepEqual(t.at(), [50], 'a sooner pass replaces a later one');
    t.loop.changed();
    await t.advance(40);
    t.loop.changed();
    await t.advance(40);
    assert.equal(t.passes.length, 1, 'a new change pushes its debounce back');
    await t.advance(10);
    assert.deepEqual(t.at(), [50, 140]);
  });

  it('stop() cancels the pending pass, ends a running one without another, and refuses new ones', async () => {
    const t = setup({ resyncMs: 60_000 });
    t.loop.schedule(100);
    t.loop.stop();
    assert.equal(t.loop.stopped, true);
    assert.equal(t.timers.pending, 0);
    await t.advance(1000);
    assert.equal(t.passes.length, 0);
    t.loop.schedule(0);
    assert.equal(t.timers.pending, 0, 'nothing scheduled once stopped');

    const u = setup({ resyncMs: 60_000 });
    u.results.push(3);
    u.hold();
    const running = u.loop.run();
    await flush();
    void u.loop.run(); // a change during the pass
    u.loop.stop();
    let idle = false;
    const waiting = u.loop.idle().then(() => (idle = true));
    await flush();
    assert.equal(idle, false, 'idle() waits for the pass that runs');
    await u.release();
    await waiting;
    await running;
    assert.equal(u.passes.length, 1, 'no pass after the one running at stop');
    assert.deepEqual(u.backoff.delays, [], 'its failures are not retried');
    assert.equal(u.timers.pending, 0);
  });

  describe('gated on leadership', () => {
    /** A Leadership a test flips by hand. */
    const switchable = (leading: boolean): Leadership & { set(v: boolean): void } => {
      const fns = new Set<(l: boolean) => void>();
      return {
        get isLeader() {
          return leading;
        },
        onChange: (fn) => (fns.add(fn), () => void fns.delete(fn)),
        set(v: boolean) {
          leading = v;
          for (const fn of fns) fn(v);
        },
      };
    };

    it('runs no pass while following, and a full pass at once on becoming leader', async () => {
      const lead = switchable(false);
      const t = setup({ leadership: lead, resyncMs: 60_000, debounceMs: 100 });
      lead.set(true);
      await t.advance(1000);
      assert.equal(t.passes.length, 0, 'nobody asked for a pass yet (the owner has not started): leading alone runs none');
      lead.set(false);
      t.loop.schedule(0);
      t.loop.changed();
      await t.loop.run();
      await t.advance(120_000);
      assert.equal(t.passes.length, 0, 'a follower writes nothing');
      assert.equal(t.timers.pending, 0, 'and keeps nothing pending');
      assert.equal(t.loop.halted, true);
      lead.set(true);
      assert.equal(t.loop.halted, false);
      await t.advance(0);
      assert.deepEqual(t.at(), [121_000], 'the changes it ignored are caught up by a pass at once');
      await t.advance(60_000);
      assert.deepEqual(t.at(), [121_000, 181_000], 'and resyncs as a leader');
      t.loop.stop();
    });

    it('losing leadership cancels what is pending, halts the running pass, and schedules nothing after it', async () => {
      const lead = switchable(true);
      const t = setup({ leadership: lead, resyncMs: 60_000 });
      t.results.push(2);
      t.hold();
      t.loop.schedule(0);
      await t.advance(0);
      assert.equal(t.loop.halted, false);
      t.loop.changed(); // a pass asked for during this one
      lead.set(false);
      assert.equal(t.loop.halted, true, 'the pass sees it before its next write');
      await t.release();
      assert.equal(t.passes.length, 1, 'no pass after it, though one was asked for and it failed');
      assert.deepEqual(t.backoff.delays, [], 'no retry');
      assert.equal(t.timers.pending, 0);
      // Regained: the backoff starts over, and the pass runs at once.
      lead.set(true);
      await t.advance(0);
      assert.equal(t.passes.length, 2);
      t.loop.stop();
      lead.set(false);
      lead.set(true);
      await t.advance(1000);
      assert.equal(t.passes.length, 2, 'a stopped loop ignores leadership');
    });

    it('regaining leadership while a pass still runs runs another right after it', async () => {
      const lead = switchable(true);
      const t = setup({ leadership: lead });
      t.hold();
      const first = t.loop.run();
      await flush();
      lead.set(false);
      lead.set(true);
      await t.advance(0);
      await t.release();
      await first;
      assert.equal(t.passes.length, 2);
    });
  });
});
