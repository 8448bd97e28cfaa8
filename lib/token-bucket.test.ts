import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from './token-bucket.js';

/** A clock the test moves by hand. */
function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const takeAll = (b: TokenBucket): number => {
  let n = 0;
  while (b.take()) n++;
  return n;
};

describe('token bucket', () => {
  test('starts full and refuses once the burst is spent', () => {
    const c = clock();
    const b = new TokenBucket({ maxTokens: 3, tokensPerFill: 1, fillIntervalMs: 100 }, c.now);
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  });

  test('adds tokensPerFill per whole interval, on the grid of intervals', () => {
    const c = clock();
    const b = new TokenBucket({ maxTokens: 10, tokensPerFill: 2, fillIntervalMs: 100 }, c.now);
    assert.equal(takeAll(b), 10);
    c.t += 99;
    assert.equal(b.take(), false, 'nothing before a whole interval');
    c.t += 1;
    assert.equal(takeAll(b), 2);
    c.t += 150; // +250: one whole interval since the fill at +100, so one fill (at +200)
    assert.equal(takeAll(b), 2);
    c.t += 50; // the grid point at +300 is reached: half an interval later, not a whole one
    assert.equal(takeAll(b), 2, 'fills stay on the grid, not restarted by a take');
  });

  test('refills to the cap after a long idle, no more', () => {
    const c = clock();
    const b = new TokenBucket({ maxTokens: 5, tokensPerFill: 1, fillIntervalMs: 50 }, c.now);
    takeAll(b);
    c.t += 365 * 24 * 3600 * 1000; // a year
    assert.equal(b.available, 5);
    assert.equal(takeAll(b), 5);
    c.t += 50;
    assert.equal(takeAll(b), 1, 'and the grid still holds afterwards');
  });

  test('a clock going back refills nothing and breaks nothing', () => {
    const c = clock();
    const b = new TokenBucket({ maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 100 }, c.now);
    takeAll(b);
    c.t -= 10_000;
    assert.equal(b.take(), false);
    c.t += 10_100; // back to start + 100
    assert.equal(takeAll(b), 1);
  });

  test('defaults: tokensPerFill = maxTokens, fill interval 1 s', () => {
    const c = clock();
    const b = new TokenBucket({ maxTokens: 4, tokensPerFill: 0, fillIntervalMs: 0 }, c.now);
    takeAll(b);
    c.t += 999;
    assert.equal(b.take(), false);
    c.t += 1;
    assert.equal(takeAll(b), 4);
  });

  test('refuses a bucket without a positive maxTokens', () => {
    assert.throws(() => new TokenBucket({ maxTokens: 0, tokensPerFill: 1, fillIntervalMs: 1 }), RangeError);
  });
});
