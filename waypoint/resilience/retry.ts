/**
 * Retry decisions for a Service's Retries: Envoy's router retry policy, as
 * Istio configures it.
 *
 * retriable(outcome, policy) follows Envoy's RetryStateImpl:
 * - `5xx`: any 5xx response, and any try that got no response (connect
 *   failure, reset, per-try timeout);
 * - `gateway-error`: 502, 503, 504, and likewise any try without a response;
 * - `reset`: any try without a response (connect failure, reset, per-try timeout);
 * - `connect-failure`: a connect failure;
 * - `refused-stream`: an HTTP/2 REFUSED_STREAM reset;
 * - `retriable-4xx`: 409;
 * - `cancelled` (1), `deadline-exceeded` (4), `internal` (13),
 *   `resource-exhausted` (8), `unavailable` (14): that grpc-status. Envoy reads
 *   it from response headers only (a trailers-only response): a response whose
 *   body started streaming cannot be retried, so the caller passes it only then;
 * - `retriable_status_codes`: those statuses (Istio turns on Envoy's
 *   retriable-status-codes whenever there are codes).
 * Only failures before the response head was forwarded can be retried at all,
 * and only while the request body is still buffered; that is the caller's part.
 *
 * Defaults, as Istio 1.2x (pilot/pkg/networking/core/route/retry): no Retries
 * at all: 2 retries on "connect-failure,refused-stream,unavailable,cancelled,
 * retriable-status-codes" with no status codes (Istio once listed 503 there and
 * dropped it: an application's 503 is a complete answer, and retrying it may
 * repeat a non-idempotent request); Retries with attempts 0: no retries;
 * attempts but neither words nor codes: those default words. Unknown words are
 * ignored, as Envoy ignores them in x-envoy-retry-on.
 *
 * Backoff: Envoy's default, 25 ms base, 250 ms max, exponential with full
 * jitter (lib/backoff). Budget: Envoy's retry_budget defaults, retries in
 * flight at most 20% of the Service's active and pending requests, and never
 * fewer than 3 allowed (the TrafficPolicy has no budget fields; without a
 * budget Envoy's default is 3 concurrent retries, Istio's unlimited).
 */
import { exponentialBackoff, type Backoff } from '../../lib/backoff.js';
import type { Retries } from '../../lib/xds/index.js';
import type { Random, Release, TryOutcome } from './types.js';

const ON = {
  '5xx': 1 << 0,
  'gateway-error': 1 << 1,
  reset: 1 << 2,
  'connect-failure': 1 << 3,
  'retriable-4xx': 1 << 4,
  'refused-stream': 1 << 5,
  cancelled: 1 << 6,
  'deadline-exceeded': 1 << 7,
  internal: 1 << 8,
  'resource-exhausted': 1 << 9,
  unavailable: 1 << 10,
} as const;

export type RetryOn = keyof typeof ON;
/** The retryOn words this module understands. */
export const RETRY_ON_WORDS = Object.freeze(Object.keys(ON) as RetryOn[]);

/** gRPC status -> the word that retries it. */
const GRPC_WORD: Record<number, number> = { 1: ON.cancelled, 4: ON['deadline-exceeded'], 8: ON['resource-exhausted'], 13: ON.internal, 14: ON.unavailable };
/** A try that got no response at all counts as a reset and as a 5xx/gateway error. */
const NO_RESPONSE = ON.reset | ON['5xx'] | ON['gateway-error'];

export const ISTIO_DEFAULT_RETRY_ON: readonly RetryOn[] = Object.freeze(['connect-failure', 'refused-stream', 'unavailable', 'cancelled']);
export const ISTIO_DEFAULT_ATTEMPTS = 2;
export const RETRY_BACKOFF_BASE_MS = 25;
export const RETRY_BACKOFF_MAX_MS = 250;

/** A Retries config parsed once. */
export interface RetryPolicy {
  /** Retries after the first try; 0: none. */
  readonly attempts: number;
  /** 0: no per-try timeout. */
  readonly perTryTimeoutMs: number;
  /** The retryOn words, as a bit set. */
  readonly on: number;
  readonly codes: readonly number[];
}

const words = (list: readonly string[]): number => list.reduce((bits, w) => bits | (ON[w as RetryOn] ?? 0), 0);

export const NO_RETRIES: RetryPolicy = Object.freeze({ attempts: 0, perTryTimeoutMs: 0, on: 0, codes: Object.freeze([]) });
export const ISTIO_DEFAULT_RETRIES: RetryPolicy = Object.freeze({
  attempts: ISTIO_DEFAULT_ATTEMPTS,
  perTryTimeoutMs: 0,
  on: words(ISTIO_DEFAULT_RETRY_ON),
  codes: Object.freeze([]),
});

/** The policy for a Service's Retries (null: the TrafficPolicy, if any, says nothing about retries). */
export function retryPolicy(retries: Retries | null | undefined): RetryPolicy {
  if (!retries) return ISTIO_DEFAULT_RETRIES;
  if (retries.attempts === 0) return NO_RETRIES;
  const defaulted = retries.retryOn.length === 0 && retries.retriableStatusCodes.length === 0;
  return Object.freeze({
    attempts: retries.attempts,
    perTryTimeoutMs: retries.perTryTimeoutMs,
    on: defaulted ? ISTIO_DEFAULT_RETRIES.on : words(retries.retryOn),
    codes: Object.freeze([...retries.retriableStatusCodes]),
  });
}

/** Whether a try that ended so may be retried under `policy` (attempts left and budget are the caller's). */
export function retriable(outcome: TryOutcome, policy: RetryPolicy): boolean {
  const on = policy.on;
  switch (outcome.kind) {
    case 'connect-failure':
      return (on & (NO_RESPONSE | ON['connect-failure'])) !== 0;
    case 'reset':
      return (on & NO_RESPONSE) !== 0 || (outcome.refusedStream === true && (on & ON['refused-stream']) !== 0);
    case 'timeout':
      return (on & NO_RESPONSE) !== 0;
    case 'response': {
      const s = outcome.status;
      if (on & ON['5xx'] && s >= 500 && s <= 599) return true;
      if (on & ON['gateway-error'] && (s === 502 || s === 503 || s === 504)) return true;
      if (on & ON['retriable-4xx'] && s === 409) return true;
      if (policy.codes.includes(s)) return true;
      return outcome.grpcStatus !== undefined && (on & (GRPC_WORD[outcome.grpcStatus] ?? 0)) !== 0;
    }
  }
}

/** Delays before each retry of one request: call next() before the 1st, 2nd... retry. */
export function retryBackoff(random: Random = Math.random): Backoff {
  return exponentialBackoff(RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS, random);
}

/**
 * Envoy's retry_budget for one Service: a retry may start while the retries
 * in flight are fewer than max(minConcurrency, percent% of the Service's
 * active and pending requests).
 */
export class RetryBudget {
  private inFlight = 0;
  /** Retries refused by the budget (Envoy's upstream_rq_retry_overflow). */
  overflowed = 0;

  constructor(
    readonly percent = 20,
    readonly minConcurrency = 3,
  ) {}

  /**
   * A retry slot, or undefined when the budget is spent (the caller gives up
   * retrying and answers with the last try's outcome). `activeRequests`: the
   * Service's requests in flight and waiting, e.g. PoolLimiter's active + pending.
   */
  tryAcquire(activeRequests: number): Release | undefined {
    const limit = Math.max(this.minConcurrency, Math.floor((this.percent / 100) * activeRequests));
    if (this.inFlight >= limit) {
      this.overflowed++;
      return undefined;
    }
    this.inFlight++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.inFlight--;
    };
  }

  /** Retries in flight now. */
  get active(): number {
    return this.inFlight;
  }
}
