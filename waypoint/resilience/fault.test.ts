import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Fault } from '../../lib/xds/index.js';
import { decideFault, NO_FAULT } from './fault.js';

const fault = (f: Partial<Fault>): Fault => ({ delayMs: 0, delayPercentage: 0, abortStatus: 0, abortPercentage: 0, ...f });
/** A random source that returns these values in turn and fails the test if asked for more. */
const draws = (...values: number[]) => () => {
  assert.ok(values.length > 0, 'drew more random numbers than expected');
  return values.shift()!;
};

describe('fault injection', () => {
  test('no fault config, or neither fault set: nothing, and no draws', () => {
    assert.equal(decideFault(null, draws()), NO_FAULT);
    assert.equal(decideFault(fault({ delayPercentage: 100, abortPercentage: 100 }), draws()), NO_FAULT);
  });

  test('delay with its percentage, fractions included', () => {
    const f = fault({ delayMs: 2000, delayPercentage: 12.5 });
    assert.deepEqual(decideFault(f, draws(0.1249)), { delayMs: 2000, abortStatus: 0 });
    assert.equal(decideFault(f, draws(0.125)), NO_FAULT);
  });

  test('abort with its percentage', () => {
    const f = fault({ abortStatus: 503, abortPercentage: 0.1 });
    assert.deepEqual(decideFault(f, draws(0.000999)), { delayMs: 0, abortStatus: 503 });
    assert.equal(decideFault(f, draws(0.001)), NO_FAULT);
  });

  test('delay and abort are drawn independently, delay first', () => {
    const f = fault({ delayMs: 100, delayPercentage: 50, abortStatus: 500, abortPercentage: 50 });
    assert.deepEqual(decideFault(f, draws(0.2, 0.7)), { delayMs: 100, abortStatus: 0 });
    assert.deepEqual(decideFault(f, draws(0.7, 0.2)), { delayMs: 0, abortStatus: 500 });
    assert.deepEqual(decideFault(f, draws(0.2, 0.2)), { delayMs: 100, abortStatus: 500 });
  });

  test('0% never, 100% always, out-of-range percentages act as the bound', () => {
    for (const r of [0, 0.5, 0.999999]) {
      assert.equal(decideFault(fault({ abortStatus: 503, abortPercentage: 0 }), draws(r)), NO_FAULT);
      assert.equal(decideFault(fault({ abortStatus: 503, abortPercentage: -5 }), draws(r)), NO_FAULT);
      assert.equal(decideFault(fault({ abortStatus: 503, abortPercentage: 100 }), draws(r)).abortStatus, 503);
      assert.equal(decideFault(fault({ abortStatus: 503, abortPercentage: 250 }), draws(r)).abortStatus, 503);
    }
  });

  test('about the configured share over many requests', () => {
    let seed = 1;
    const lcg = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const f = fault({ delayMs: 5, delayPercentage: 30 });
    let n = 0;
    for (let i = 0; i < 10000; i++) if (decideFault(f, lcg).delayMs) n++;
    assert.ok(n > 2800 && n < 3200, `${n} of 10000`);
  });
});
