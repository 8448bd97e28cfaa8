import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OutlierDetection } from '../../lib/xds/index.js';
import { OutlierDetector, outcomeStatus, outlierDetector } from './outlier.js';
import type { TryOutcome } from './types.js';

const S = 1000;
const ok: TryOutcome = { kind: 'response', status: 200 };
const r = (status: number): TryOutcome => ({ kind: 'response', status });

function setup(config: Partial<OutlierDetection>, endpoints = ['a:80', 'b:80', 'c:80', 'd:80']) {
  const c = { t: 0 };
  const full: OutlierDetection = {
    consecutive_5xxErrors: 0,
    consecutiveGatewayErrors: 0,
    intervalMs: 10 * S,
    baseEjectionTimeMs: 30 * S,
    maxEjectionPercent: 100,
    ...config,
  };
  const d = new OutlierDetector(full, endpoints, () => c.t);
  const fail = (key: string, n: number, outcome: TryOutcome = r(500)) => {
    for (let i = 0; i < n; i++) d.report(key, outcome);
  };
  return { c, d, fail, endpoints };
}

describe('outlier detection: triggers', () => {
  test('consecutive 5xx ejects at the threshold, a success in between resets', () => {
    const { d, fail, endpoints } = setup({ consecutive_5xxErrors: 3 });
    fail('a:80', 2);
    d.report('a:80', ok);
    fail('a:80', 2);
    assert.equal(d.isEjected('a:80'), false);
    fail('a:80', 1);
    assert.equal(d.isEjected('a:80'), true);
    assert.deepEqual(d.available(endpoints), ['b:80', 'c:80', 'd:80']);
  });

  test('a 4xx is a success for outlier detection', () => {
    const { d, fail } = setup({ consecutive_5xxErrors: 2 });
    fail('a:80', 1);
    d.report('a:80', r(404));
    fail('a:80', 1);
    assert.equal(d.isEjected('a:80'), false);
  });

  test('gateway errors: 502/503/504, connect failures, resets and timeouts; a 500 breaks the run', () => {
    const { d, fail } = setup({ consecutiveGatewayErrors: 4 });
    d.report('a:80', r(502));
    d.report('a:80', { kind: 'connect-failure' });
    d.report('a:80', { kind: 'reset' });
    d.report('a:80', r(500)); // 5xx but not a gateway error: restarts the gateway count
    d.report('a:80', r(503));
    d.report('a:80', { kind: 'timeout' });
    d.report('a:80', r(504));
    assert.equal(d.isEjected('a:80'), false);
    fail('a:80', 1, { kind: 'reset', refusedStream: true });
    assert.equal(d.isEjected('a:80'), true);
  });

  test('gateway errors count towards consecutive 5xx too', () => {
    const { d, fail } = setup({ consecutive_5xxErrors: 3 });
    fail('a:80', 1, { kind: 'connect-failure' });
    fail('a:80', 1, r(502));
    fail('a:80', 1, { kind: 'timeout' });
    assert.equal(d.isEjected('a:80'), true);
  });

  test('gRPC outcomes count as their grpc-status mapped to HTTP', () => {
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 14 }), 503);
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 4 }), 504);
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 13 }), 500);
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 5 }), 404);
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 0 }), 200);
    assert.equal(outcomeStatus({ kind: 'response', status: 200, grpcStatus: 99 }), 500);
    const { d, fail } = setup({ consecutiveGatewayErrors: 2 });
    fail('a:80', 2, { kind: 'response', status: 200, grpcStatus: 14 });
    assert.equal(d.isEjected('a:80'), true);
  });

  test('a trigger at 0 is off; no trigger at all: no detector', () => {
    const { d, fail } = setup({ consecutive_5xxErrors: 0, consecutiveGatewayErrors: 2 });
    fail('a:80', 50, r(500));
    assert.equal(d.isEjected('a:80'), false);
    assert.equal(outlierDetector(null, []), undefined);
    assert.equal(outlierDetector({ consecutive_5xxErrors: 0, consecutiveGatewayErrors: 0, intervalMs: 0, baseEjectionTimeMs: 0, maxEjectionPercent: 0 }, []), undefined);
    assert.ok(outlierDetector({ consecutive_5xxErrors: 1, consecutiveGatewayErrors: 0, intervalMs: 0, baseEjectionTimeMs: 0, maxEjectionPercent: 0 }, []));
  });

  test('reports about unknown endpoints and during an ejection are ignored', () => {
    const { c, d, fail } = setup({ consecutive_5xxErrors: 2 });
    fail('z:80', 10);
    assert.deepEqual(d.ejected(), []);
    fail('a:80', 2);
    fail('a:80', 5); // while ejected: not counted
    c.t += 30 * S;
    assert.equal(d.isEjected('a:80'), false);
    fail('a:80', 1); // counters start over after the ejection
    assert.equal(d.isEjected('a:80'), false);
  });
});

describe('outlier detection: ejection time', () => {
  test('un-ejected exactly when base x times has passed, checked lazily', () => {
    const { c, d, fail, endpoints } = setup({ consecutive_5xxErrors: 1 });
    c.t = 5 * S;
    fail('a:80', 1);
    assert.deepEqual(d.ejected(), [{ key: 'a:80', untilMs: 35 * S, times: 1 }]);
    c.t = 35 * S - 1;
    assert.equal(d.available(endpoints).length, 3);
    c.t = 35 * S;
    assert.equal(d.available(endpoints), endpoints, 'back in: the input array itself');
    assert.deepEqual(d.ejected(), []);
  });

  test('grows with each ejection and is capped at max(base, 300 s)', () => {
    const { c, d, fail } = setup({ consecutive_5xxErrors: 1, intervalMs: 3600 * S });
    const durations: number[] = [];
    for (let i = 0; i < 13; i++) {
      fail('a:80', 1);
      const [e] = d.ejected();
      durations.push((e!.untilMs - c.t) / S);
      c.t = e!.untilMs; // re-offends the moment it is back: no decay
    }
    assert.deepEqual(durations, [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300, 300]);
  });

  test('a base above 300 s is its own cap', () => {
    const { c, d, fail } = setup({ consecutive_5xxErrors: 1, baseEjectionTimeMs: 400 * S, intervalMs: 3600 * S });
    for (let i = 0; i < 3; i++) {
      fail('a:80', 1);
      const [e] = d.ejected();
      assert.equal(e!.untilMs - c.t, 400 * S);
      c.t = e!.untilMs;
    }
  });

  test('the multiplier decays by one per interval spent back in', () => {
    const { c, d, fail } = setup({ consecutive_5xxErrors: 1, intervalMs: 10 * S });
    for (let i = 0; i < 3; i++) {
      fail('a:80', 1);
      c.t = d.ejected()[0]!.untilMs;
    }
    // times is 3 and it came back at c.t. Two whole intervals healthy: 3 -> 1.
    c.t += 25 * S;
    fail('a:80', 1);
    assert.equal(d.ejected()[0]!.times, 2, 'decayed to 1, then this ejection made it 2');
    c.t = d.ejected()[0]!.untilMs + 1000 * S; // long healthy: decays to 0
    fail('a:80', 1);
    assert.deepEqual(d.ejected().map((e) => [e.times, e.untilMs - c.t]), [[1, 30 * S]]);
  });

  test('decay is counted from the un-ejection time, not from when it was noticed', () => {
    const { c, d, fail } = setup({ consecutive_5xxErrors: 1, intervalMs: 10 * S });
    fail('a:80', 1); // times 1, back at 30 s
    fail('b:80', 1);
    c.t = 45 * S; // nobody looked at the detector since; a:80 has been in for 15 s
    fail('a:80', 1);
    assert.equal(d.ejected().find((e) => e.key === 'a:80')!.times, 1, 'one interval passed: 1 -> 0, then 1');
  });
});

describe('outlier detection: max ejection percent', () => {
  test('2 endpoints at 50%: one ejected, the other stays in however it fails', () => {
    const { d, fail, endpoints } = setup({ consecutive_5xxErrors: 2, maxEjectionPercent: 50 }, ['a:80', 'b:80']);
    fail('a:80', 2);
    fail('b:80', 20);
    assert.deepEqual(d.available(endpoints), ['b:80']);
    assert.deepEqual(d.stats(), { active: 1, ejections: 1, overflows: 10, panics: 0 });
  });

  test('2 endpoints at the default (10%): nothing is ever ejected', () => {
    const { d, fail, endpoints } = setup({ consecutive_5xxErrors: 1, maxEjectionPercent: 0 }, ['a:80', 'b:80']);
    fail('a:80', 5);
    assert.equal(d.available(endpoints), endpoints);
    assert.equal(d.stats().overflows, 5);
  });

  test('10 endpoints at the default: one at a time; the next goes once a slot frees', () => {
    const keys = Array.from({ length: 10 }, (_, i) => `10.0.0.${i}:80`);
    const { c, d, fail } = setup({ consecutive_5xxErrors: 2, maxEjectionPercent: 0 }, keys);
    fail(keys[0]!, 2);
    fail(keys[1]!, 2);
    assert.deepEqual(d.ejected().map((e) => e.key), [keys[0]]);
    c.t += 30 * S;
    fail(keys[1]!, 1); // the refused trigger restarted its count: one more is not enough
    assert.deepEqual(d.ejected(), []);
    fail(keys[1]!, 1);
    assert.deepEqual(d.ejected().map((e) => e.key), [keys[1]]);
  });

  test('at 100% all can go; available() then returns every candidate (panic)', () => {
    const { d, fail, endpoints } = setup({ consecutive_5xxErrors: 1, maxEjectionPercent: 100 }, ['a:80', 'b:80']);
    fail('a:80', 1);
    fail('b:80', 1);
    assert.equal(d.ejected().length, 2);
    assert.equal(d.available(endpoints), endpoints);
    assert.equal(d.available(endpoints), endpoints);
    assert.equal(d.stats().panics, 2);
  });

  test('panic also when the caller’s subset is all ejected', () => {
    const { d, fail } = setup({ consecutive_5xxErrors: 1, maxEjectionPercent: 50 });
    fail('a:80', 1);
    const subset = ['a:80'];
    assert.equal(d.available(subset), subset);
    assert.deepEqual(d.available([]), []);
  });
});

describe('outlier detection: endpoint changes and caching', () => {
  test('endpoints that left are forgotten with their ejection; newcomers start clean', () => {
    const { d, fail } = setup({ consecutive_5xxErrors: 1, maxEjectionPercent: 50 }, ['a:80', 'b:80']);
    fail('a:80', 1);
    d.setEndpoints(['b:80', 'c:80']);
    assert.deepEqual(d.ejected(), []);
    fail('b:80', 1);
    assert.deepEqual(d.ejected().map((e) => e.key), ['b:80']);
    d.setEndpoints(['a:80', 'b:80', 'c:80']);
    fail('a:80', 1); // 2 of 3 would be 66% > 50%
    assert.deepEqual(d.ejected().map((e) => e.key), ['b:80']);
    assert.deepEqual(d.available(['a:80', 'b:80', 'c:80']), ['a:80', 'c:80']);
  });

  test('available() returns the same array while nothing changes', () => {
    const { c, d, fail, endpoints } = setup({ consecutive_5xxErrors: 1 });
    fail('a:80', 1);
    const first = d.available(endpoints);
    assert.equal(d.available(endpoints), first);
    fail('b:80', 1);
    const second = d.available(endpoints);
    assert.notEqual(second, first);
    assert.deepEqual(second, ['c:80', 'd:80']);
    c.t += 30 * S;
    assert.equal(d.available(endpoints), endpoints);
  });
});
