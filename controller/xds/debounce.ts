import { realTimers, type Timers } from '../../lib/xds/timers.js';

/**
 * Coalesces bursts without making a lone change wait for them. A trigger
 * after a quiet spell (nothing was done for `quietMs`) runs `fn` after
 * `firstMs`, a few milliseconds in which the other events of the same change
 * (a pod's status, then its EndpointSlice) arrive and go out with it.
 * Triggers that follow within `quietMs` of a run that did something are a
 * burst: `fn` runs once `quietMs` pass without a trigger, or at the latest
 * `maxDelayMs` after the first trigger of the burst (so a steady stream of
 * changes still gets pushed). `fn` learns when the burst began, and says
 * whether it did anything: a run that found nothing to do does not end a
 * quiet spell.
 */
export class Debouncer {
  private timer: unknown;
  /** Whether the pending run is a quiet spell's first one. */
  private first = false;
  private firstAt: number | undefined;
  private lastRunAt = -Infinity;

  constructor(
    private readonly fn: (burstStartedAt: number) => boolean,
    private readonly opts: { quietMs: number; maxDelayMs: number; firstMs: number; timers?: Timers; now?: () => number },
  ) {}

  private get timers(): Timers {
    return this.opts.timers ?? realTimers;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  trigger(): void {
    if (this.timer !== undefined && this.first) return; // it runs shortly and takes this one too
    const now = this.now();
    this.firstAt ??= now;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.first = this.timer === undefined && now - this.lastRunAt >= this.opts.quietMs;
    const delay = this.first ? Math.min(this.opts.firstMs, this.opts.quietMs) : Math.max(0, Math.min(this.opts.quietMs, this.firstAt + this.opts.maxDelayMs - now));
    this.timer = this.timers.setTimeout(() => this.fire(), delay);
  }

  /** Whether a burst is waiting to run. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Runs a pending burst now. */
  flush(): void {
    if (this.timer === undefined) return;
    this.timers.clearTimeout(this.timer);
    this.fire();
  }

  cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
  }

  private fire(): void {
    const started = this.firstAt ?? this.now();
    this.timer = undefined;
    this.firstAt = undefined;
    if (this.fn(started)) this.lastRunAt = this.now();
  }
}
