/**
 * Outlier detection for the endpoints of one Service: Envoy's consecutive_5xx
 * and consecutive_gateway_failure detectors, as Istio configures them.
 *
 * - Every try's outcome is reported per endpoint ("ip:port"). Any 5xx counts
 *   towards `consecutive5xxErrors`; 502, 503, 504 towards
 *   `consecutiveGatewayErrors` as well. Local failures count as Envoy counts
 *   them when it does not split local-origin errors (its default): a connect
 *   failure or a reset as a 503, a per-try timeout as a 504. A gRPC response
 *   counts as its grpc-status mapped to HTTP (UNAVAILABLE -> 503, ...), as
 *   Envoy's router does. Any other response resets both counters; a non-gateway
 *   5xx resets the gateway one.
 * - Reaching a threshold tries to eject the endpoint and restarts that counter,
 *   whether or not the ejection was allowed.
 * - An ejection lasts `baseEjectionTimeMs` x the endpoint's ejection multiplier,
 *   capped at max(base, 300 s) (Envoy's max_ejection_time default). The
 *   multiplier goes up by one per ejection (up to Envoy's bound) and down by one
 *   per `intervalMs` the endpoint then spends back in (Envoy decrements it on
 *   each interval tick without an ejection).
 * - An ejection is refused when it would take the ejected share of the
 *   Service's endpoints above `maxEjectionPercent` (Envoy >= 1.26: the share
 *   counts the endpoint being ejected, so with 2 endpoints and the default 10%
 *   nothing is ever ejected, and with 50% at most one). The endpoint stays in.
 *
 * Deliberate differences from Envoy: un-ejection happens exactly when the
 * ejection time has passed, checked lazily whenever the detector is read or
 * written (no interval timer; Envoy only notices on its next interval tick,
 * so its ejections last up to one interval longer). Both triggers are enforced
 * (100%) when set, as Istio sets them. No success-rate or failure-percentage
 * detection (the TrafficPolicy has no fields for it).
 *
 * Defaults for fields the proto leaves at 0: interval 10 s, base ejection time
 * 30 s, max ejection percent 10 (Envoy's and Istio's). A trigger at 0 is off.
 *
 * One detector serves the thread that owns it (Envoy shares one per cluster
 * across its workers).
 */
import type { OutlierDetection } from '../../lib/xds/index.js';
import { monotonicMs, type Clock, type TryOutcome } from './types.js';

export const OUTLIER_DEFAULTS = Object.freeze({
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 10,
  /** Envoy's max_ejection_time default; the cap is max(base, this). */
  maxEjectionTimeMs: 300_000,
});

/** An endpoint out of rotation, for metrics and the config dump. */
export interface Ejection {
  key: string;
  /** Clock time at which it comes back in. */
  untilMs: number;
  /** Its ejection multiplier: this ejection lasts min(base x times, cap). */
  times: number;
}

/** Counters for metrics (Envoy's outlier_detection.* names in comments). */
export interface OutlierStats {
  /** Endpoints ejected now (ejections_active). */
  active: number;
  /** Ejections made (ejections_enforced_total). */
  ejections: number;
  /** Ejections refused by maxEjectionPercent (ejections_overflow). */
  overflows: number;
  /** Calls of available() that returned every candidate because all were ejected. */
  panics: number;
}

interface EndpointState {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Envoy's eject_time_backoff. */
  times: number;
  /** While ejected: when it comes back; 0 when in. */
  untilMs: number;
  /** While in with times > 0: the time from which whole intervals decrement `times`. */
  decayFrom: number;
}

/** gRPC status -> HTTP status, as Envoy maps it for outlier detection (grpcToHttpStatus). */
const GRPC_TO_HTTP = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** The HTTP status a try's outcome counts as. */
export function outcomeStatus(outcome: TryOutcome): number {
  switch (outcome.kind) {
    case 'response':
      if (outcome.grpcStatus !== undefined) return GRPC_TO_HTTP[outcome.grpcStatus] ?? 500;
      return outcome.status;
    case 'connect-failure':
    case 'reset':
      return 503;
    case 'timeout':
      return 504;
  }
}

const isGatewayError = (status: number): boolean => status === 502 || status === 503 || status === 504;

export class OutlierDetector {
  private readonly consecutive5xxErrors: number;
  private readonly consecutiveGatewayErrors: number;
  private readonly intervalMs: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly maxEjectionPercent: number;
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly ejectedKeys = new Set<string>();
  /** The earliest un-ejection due; Infinity when none is ejected. */
  private nextUnejectAt = Infinity;
  private readonly counters = { ejections: 0, overflows: 0, panics: 0 };
  /** available()'s last answer, reused while neither its input nor the ejected set changed. */
  private generation = 0;
  private memo: { input: readonly string[]; generation: number; output: readonly string[]; panic: boolean } | undefined;

  constructor(
    config: OutlierDetection,
    endpoints: Iterable<string>,
    private readonly now: Clock = monotonicMs,
  ) {
    this.consecutive5xxErrors = config.consecutive_5xxErrors;
    this.consecutiveGatewayErrors = config.consecutiveGatewayErrors;
    this.intervalMs = config.intervalMs || OUTLIER_DEFAULTS.intervalMs;
    this.baseMs = config.baseEjectionTimeMs || OUTLIER_DEFAULTS.baseEjectionTimeMs;
    this.capMs = Math.max(this.baseMs, OUTLIER_DEFAULTS.maxEjectionTimeMs);
    this.maxEjectionPercent = Math.min(100, config.maxEjectionPercent || OUTLIER_DEFAULTS.maxEjectionPercent);
    this.setEndpoints(endpoints);
  }

  /**
   * The Service's endpoints now. New ones start clean; those that left are
   * forgotten, with their ejection. Reports about unknown endpoints are ignored.
   */
  setEndpoints(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const key of this.endpoints.keys()) {
      if (keep.has(key)) continue;
      this.endpoints.delete(key);
      if (this.ejectedKeys.delete(key)) this.generation++;
    }
    for (const key of keep) {
      if (!this.endpoints.has(key)) this.endpoints.set(key, { consecutive5xx: 0, consecutiveGateway: 0, times: 0, untilMs: 0, decayFrom: 0 });
    }
    this.recomputeNextUneject();
  }

  /** How one try at `key` ended. Reports while the endpoint is ejected are ignored, as Envoy does. */
  report(key: string, outcome: TryOutcome): void {
    const s = this.endpoints.get(key);
    if (!s) return;
    if (s.untilMs !== 0) {
      const now = this.now();
      if (now < s.untilMs) return;
      this.sweep(now);
    }
    const status = outcomeStatus(outcome);
    if (status < 500 || status > 599) {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
      return;
    }
    if (!isGatewayError(status)) s.consecutiveGateway = 0;
    else if (this.consecutiveGatewayErrors > 0 && ++s.consecutiveGateway >= this.consecutiveGatewayErrors) {
      s.consecutiveGateway = 0;
      if (this.eject(key, s)) return;
    }
    if (this.consecutive5xxErrors > 0 && ++s.consecutive5xx >= this.consecutive5xxErrors) {
      s.consecutive5xx = 0;
      this.eject(key, s);
    }
  }

  /**
   * The candidates that are not ejected, in their order. When every candidate
   * is ejected, all of them: like Envoy's panic mode, better to try a
   * suspected endpoint than to fail every request (Istio turns Envoy's panic
   * threshold off, so there such requests fail with 503 UH instead). With
   * maxEjectionPercent < 100 that only happens when the caller's list is a
   * subset of the Service's endpoints. Returns the input array itself when
   * nothing is ejected, and the same output array until the input or the
   * ejected set changes, so pickers can cache on identity.
   */
  available(candidates: readonly string[]): readonly string[] {
    if (this.ejectedKeys.size === 0) return candidates;
    this.sweep(this.now());
    if (this.ejectedKeys.size === 0) return candidates;
    const memo = this.memo;
    if (memo && memo.input === candidates && memo.generation === this.generation) {
      if (memo.panic) this.counters.panics++;
      return memo.output;
    }
    let output: readonly string[] = candidates.filter((k) => !this.ejectedKeys.has(k));
    const panic = output.length === 0 && candidates.length > 0;
    if (panic) {
      output = candidates;
      this.counters.panics++;
    }
    this.memo = { input: candidates, generation: this.generation, output, panic };
    return output;
  }

  /** Whether `key` is out of rotation now. */
  isEjected(key: string): boolean {
    const s = this.endpoints.get(key);
    if (!s || s.untilMs === 0) return false;
    this.sweep(this.now());
    return s.untilMs !== 0;
  }

  /** The endpoints ejected now. */
  ejected(): Ejection[] {
    this.sweep(this.now());
    return [...this.ejectedKeys].map((key) => {
      const s = this.endpoints.get(key)!;
      return { key, untilMs: s.untilMs, times: s.times };
    });
  }

  stats(): OutlierStats {
    this.sweep(this.now());
    return { active: this.ejectedKeys.size, ...this.counters };
  }

  /** Ejects `key` unless maxEjectionPercent forbids it; true when it did. */
  private eject(key: string, s: EndpointState): boolean {
    const now = this.now();
    this.sweep(now);
    if ((this.ejectedKeys.size + 1) * 100 > this.maxEjectionPercent * this.endpoints.size) {
      this.counters.overflows++;
      return false;
    }
    this.decay(s, now);
    // Envoy stops raising the multiplier once base x times passes the cap by a base.
    if (s.times * this.baseMs < this.capMs + this.baseMs) s.times++;
    s.untilMs = now + Math.min(this.baseMs * s.times, this.capMs);
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    this.ejectedKeys.add(key);
    this.generation++;
    this.counters.ejections++;
    if (s.untilMs < this.nextUnejectAt) this.nextUnejectAt = s.untilMs;
    return true;
  }

  /** Lets back in every endpoint whose ejection is over. */
  private sweep(now: number): void {
    if (now < this.nextUnejectAt) return;
    for (const key of this.ejectedKeys) {
      const s = this.endpoints.get(key)!;
      if (now < s.untilMs) continue;
      this.ejectedKeys.delete(key);
      this.generation++;
      // Decay counts from the moment it came back, whenever we notice.
      s.decayFrom = s.untilMs;
      s.untilMs = 0;
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
    }
    this.recomputeNextUneject();
  }

  /** Takes one off the multiplier per whole interval spent back in. */
  private decay(s: EndpointState, now: number): void {
    if (s.times === 0) return;
    const intervals = Math.floor((now - s.decayFrom) / this.intervalMs);
    if (intervals <= 0) return;
    s.times = Math.max(0, s.times - intervals);
    s.decayFrom += intervals * this.intervalMs;
  }

  private recomputeNextUneject(): void {
    let next = Infinity;
    for (const key of this.ejectedKeys) next = Math.min(next, this.endpoints.get(key)!.untilMs);
    this.nextUnejectAt = next;
  }
}

/** The detector for a Service's OutlierDetection, or undefined when it sets no trigger. */
export function outlierDetector(
  config: OutlierDetection | null | undefined,
  endpoints: Iterable<string>,
  now: Clock = monotonicMs,
): OutlierDetector | undefined {
  if (!config || (config.consecutive_5xxErrors === 0 && config.consecutiveGatewayErrors === 0)) return undefined;
  return new OutlierDetector(config, endpoints, now);
}
