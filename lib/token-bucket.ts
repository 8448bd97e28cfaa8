/**
 * A local rate limiter: Envoy's local_ratelimit token bucket (a waypoint's
 * TrafficPolicy rate limit; the controller's Events per object). The bucket
 * starts full with `maxTokens`; every `fillIntervalMs` it gains
 * `tokensPerFill`, never beyond `maxTokens`; each request takes one token or
 * is refused (a waypoint answers 429, flag RL).
 *
 * Fills are discrete, on a grid of fill intervals from the bucket's creation,
 * like Envoy's fill timer, but computed lazily from the clock when a token is
 * taken: no timer runs. Defaults for fields the proto leaves at 0:
 * `tokensPerFill` = `maxTokens` (the CRD's default; Envoy's is 1),
 * `fillIntervalMs` = 1000 (the CRD requires it). No `maxTokens`: no limit.
 *
 * One bucket limits the thread that owns it; it is not shared between worker
 * threads (Envoy shares one bucket between its workers).
 */
import { monotonicMs, type Clock } from './clock.js';

export interface TokenBucketConfig {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
}

export const DEFAULT_FILL_INTERVAL_MS = 1000;

export class TokenBucket {
  private readonly maxTokens: number;
  private readonly tokensPerFill: number;
  private readonly fillIntervalMs: number;
  private tokens: number;
  /** Clock time of the last fill (a point on the fill grid). */
  private lastFill: number;

  constructor(
    config: TokenBucketConfig,
    private readonly now: Clock = monotonicMs,
  ) {
    if (!(config.maxTokens > 0)) throw new RangeError(`a token bucket needs maxTokens > 0 (got ${config.maxTokens})`);
    this.maxTokens = config.maxTokens;
    this.tokensPerFill = config.tokensPerFill > 0 ? config.tokensPerFill : config.maxTokens;
    this.fillIntervalMs = config.fillIntervalMs > 0 ? config.fillIntervalMs : DEFAULT_FILL_INTERVAL_MS;
    this.tokens = this.maxTokens;
    this.lastFill = now();
  }

  /** Takes one token: true when the request may go on. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left now (after any fills that are due). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const elapsed = this.now() - this.lastFill;
    if (elapsed < this.fillIntervalMs) return; // also a clock that went back
    const fills = Math.floor(elapsed / this.fillIntervalMs);
    this.lastFill += fills * this.fillIntervalMs;
    // After a long idle fills * tokensPerFill may be huge; min() keeps it at the cap.
    this.tokens = Math.min(this.maxTokens, this.tokens + fills * this.tokensPerFill);
  }
}
