import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RETRY_ON } from '../../lib/crds/traffic-policy.js';
import type { Retries } from '../../lib/xds/index.js';
import { ISTIO_DEFAULT_RETRIES, NO_RETRIES, RETRY_ON_WORDS, RetryBudget, retriable, retryBackoff, retryPolicy, type RetryPolicy } from './retry.js';
import type { TryOutcome } from './types.js';

const retries = (r: Partial<Retries>): Retries => ({ attempts: 3, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], ...r });
const on = (...words: string[]) => retryPolicy(retries({ retryOn: words }));
const status = (s: number, grpcStatus?: number): TryOutcome => (grpcStatus === undefined ? { kind: 'response', status: s } : { kind: 'response', status: s, grpcStatus });
const CONNECT: TryOutcome = { kind: 'connect-failure' };
const RESET: TryOutcome = { kind: 'reset' };
const REFUSED: TryOutcome = { kind: 'reset', refusedStream: true };
const TIMEOUT: TryOutcome = { kind: 'timeout' };

/** Which of these outcomes the policy retries. */
const which = (p: RetryPolicy, outcomes: Record<string, TryOutcome>) =>
  Object.entries(outcomes)
    .filter(([, o]) => retriable(o, p))
    .map(([name]) => name);

const ALL = {
  200: status(200), 409: status(409), 429: status(429), 500: status(500), 501: status(501), 502: status(502), 503: status(503), 504: status(504),
  connect: CONNECT, reset: RESET, refused: REFUSED, timeout: TIMEOUT,
  'grpc-cancelled': status(200, 1), 'grpc-deadline': status(200, 4), 'grpc-exhausted': status(200, 8), 'grpc-internal': status(200, 13), 'grpc-unavailable': status(200, 14), 'grpc-ok': status(200, 0),
};

describe('retry conditions, as Envoy defines them', () => {
  test('every word the TrafficPolicy CRD accepts is understood', () => {
    assert.deepEqual([...RETRY_ON].sort(), [...RETRY_ON_WORDS].sort());
  });

  test('5xx: any 5xx and any try without a response', () => {
    assert.deepEqual(which(on('5xx'), ALL), ['500', '501', '502', '503', '504', 'connect', 'reset', 'refused', 'timeout']);
  });

  test('gateway-error: 502/503/504 and any try without a response', () => {
    assert.deepEqual(which(on('gateway-error'), ALL), ['502', '503', '504', 'connect', 'reset', 'refused', 'timeout']);
  });

  test('reset: any try without a response, connect failures and per-try timeouts included', () => {
    assert.deepEqual(which(on('reset'), ALL), ['connect', 'reset', 'refused', 'timeout']);
  });

  test('connect-failure, refused-stream, retriable-4xx: only their own case', () => {
    assert.deepEqual(which(on('connect-failure'), ALL), ['connect']);
    assert.deepEqual(which(on('refused-stream'), ALL), ['refused']);
    assert.deepEqual(which(on('retriable-4xx'), ALL), ['409']);
  });

  test('gRPC words read grpc-status', () => {
    assert.deepEqual(which(on('cancelled'), ALL), ['grpc-cancelled']);
    assert.deepEqual(which(on('deadline-exceeded'), ALL), ['grpc-deadline']);
    assert.deepEqual(which(on('resource-exhausted'), ALL), ['grpc-exhausted']);
    assert.deepEqual(which(on('internal'), ALL), ['grpc-internal']);
    assert.deepEqual(which(on('unavailable'), ALL), ['grpc-unavailable']);
    assert.equal(retriable(status(503), on('unavailable')), false, 'an HTTP 503 without grpc-status is not gRPC unavailable');
  });

  test('retriable status codes alone', () => {
    const p = retryPolicy(retries({ retriableStatusCodes: [429, 503] }));
    assert.deepEqual(which(p, ALL), ['429', '503']);
  });

  test('words and codes together; unknown words are ignored', () => {
    const p = retryPolicy(retries({ retryOn: ['connect-failure', 'bogus'], retriableStatusCodes: [429] }));
    assert.deepEqual(which(p, ALL), ['429', 'connect']);
  });
});

describe('retry policy defaults (Istio)', () => {
  test('no Retries: 2 retries on connect-failure, refused-stream, unavailable, cancelled; no status code', () => {
    const p = retryPolicy(null);
    assert.equal(p, ISTIO_DEFAULT_RETRIES);
    assert.equal(p.attempts, 2);
    assert.deepEqual(which(p, ALL), ['connect', 'refused', 'grpc-cancelled', 'grpc-unavailable']);
    assert.equal(retriable(status(503), p), false, 'an application 503 is not retried by default');
  });

  test('attempts 0: none; attempts without words or codes: the default words', () => {
    assert.equal(retryPolicy(retries({ attempts: 0, retryOn: ['5xx'] })), NO_RETRIES);
    const p = retryPolicy(retries({ attempts: 5, perTryTimeoutMs: 250 }));
    assert.deepEqual([p.attempts, p.perTryTimeoutMs, p.on], [5, 250, ISTIO_DEFAULT_RETRIES.on]);
  });

  test('policies are frozen', () => {
    assert.ok(Object.isFrozen(retryPolicy(retries({ retryOn: ['5xx'] }))));
    assert.ok(Object.isFrozen(NO_RETRIES));
  });
});

describe('retry backoff', () => {
  test('exponential with full jitter: 25, 50, 100, 200 ms, then 250 ms', () => {
    const top = retryBackoff(() => 0.999999);
    assert.deepEqual(Array.from({ length: 6 }, () => top.next()), [25, 50, 100, 200, 250, 250]);
    const bottom = retryBackoff(() => 0);
    assert.deepEqual(Array.from({ length: 3 }, () => bottom.next()), [0, 0, 0]);
    const half = retryBackoff(() => 0.5);
    assert.deepEqual(Array.from({ length: 3 }, () => half.next()), [13, 25, 50]);
  });
});

describe('retry budget', () => {
  test('at least 3 concurrent retries however few requests are active', () => {
    const b = new RetryBudget();
    const held = [b.tryAcquire(0), b.tryAcquire(1), b.tryAcquire(2)];
    assert.ok(held.every((r) => r !== undefined));
    assert.equal(b.tryAcquire(3), undefined);
    assert.equal(b.overflowed, 1);
    held[0]!();
    assert.ok(b.tryAcquire(3));
  });

  test('20% of active requests when that is more', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 20; i++) assert.ok(b.tryAcquire(100), `retry ${i + 1} of 20`);
    assert.equal(b.tryAcquire(100), undefined);
    assert.equal(b.tryAcquire(104), undefined, '20.8 rounds down, as Envoy truncates');
    assert.ok(b.tryAcquire(105));
    assert.equal(b.active, 21);
  });

  test('a release twice frees one slot only', () => {
    const b = new RetryBudget(20, 1);
    const r = b.tryAcquire(0)!;
    r();
    r();
    assert.equal(b.active, 0);
    assert.ok(b.tryAcquire(0));
    assert.equal(b.tryAcquire(0), undefined);
  });
});
