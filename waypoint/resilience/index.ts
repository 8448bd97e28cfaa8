/**
 * Resilience building blocks for the waypoint's request path: pure,
 * deterministic (clock and random are injected), per request cheap, and
 * without timers. Each module's header says which Envoy/Istio behaviour it
 * mirrors and where it deliberately differs. Per Service, the request path
 * holds one of each stateful block (TokenBucket, OutlierDetector,
 * EndpointPicker, RetryBudget, PoolLimiter) per worker thread.
 */
export { monotonicMs, type Clock, type Random, type Release, type TryOutcome } from './types.js';
export { DEFAULT_FILL_INTERVAL_MS, rateLimiter, TokenBucket } from './token-bucket.js';
export { OUTLIER_DEFAULTS, OutlierDetector, outcomeStatus, outlierDetector, type Ejection, type OutlierStats } from './outlier.js';
export {
  createPicker,
  HashRing,
  hash32,
  LeastRequestPicker,
  RING_POINTS_PER_ENDPOINT,
  RingHashPicker,
  RoundRobinPicker,
  type EndpointPicker,
} from './balancer.js';
export {
  ISTIO_DEFAULT_ATTEMPTS,
  ISTIO_DEFAULT_RETRIES,
  ISTIO_DEFAULT_RETRY_ON,
  NO_RETRIES,
  RETRY_BACKOFF_BASE_MS,
  RETRY_BACKOFF_MAX_MS,
  RETRY_ON_WORDS,
  RetryBudget,
  retriable,
  retryBackoff,
  retryPolicy,
  type RetryOn,
  type RetryPolicy,
} from './retry.js';
export { decideFault, NO_FAULT, type FaultDecision } from './fault.js';
export { PoolLimiter, type Admission, type PoolStats } from './pool.js';
