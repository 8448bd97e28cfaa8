import { realTimers, type Timers } from '../../lib/xds/timers.js';

/**
 * Coalesces bursts: `fn` runs once `quietMs` pass without a trigger, or at the
 * latest `maxDelayMs` after the first trigger of a burst (so a steady stream
 * of changes still gets pushed). `fn` learns when the burst began.
 */
export class Debouncer {
  private timer: unknown;
  private firstAt: number | undefined;

  constructor(
    private readonly fn: (burstStartedAt: number) => void,
    private readonly opts: { quietMs: number; maxDelayMs: number; timers?: Timers; now?: () => number },
  ) {}

  private get timers(): Timers {
    return this.opts.timers ?? realTimers;
  }

  trigger(): void {
    const now = (this.opts.now ?? Date.now)();
    this.firstAt ??= now;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.opts.quietMs, this.firstAt + this.opts.maxDelayMs - now));
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
    const started = this.firstAt ?? (this.opts.now ?? Date.now)();
    this.timer = undefined;
    this.firstAt = undefined;
    this.fn(started);
  }
}
