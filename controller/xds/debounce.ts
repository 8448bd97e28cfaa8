import { realTimers, type Timers } from '../../lib/xds/timers.js';

/**
 * Coalesces bursts without delaying a lone change. A trigger after a quiet
 * spell (nothing ran for `quietMs`) runs `fn` on the next turn of the event
 * loop, so the events read together go out together and at once. Triggers
 * that follow within `quietMs` of a run are a burst: `fn` runs once `quietMs`
 * pass without a trigger, or at the latest `maxDelayMs` after the first
 * trigger of the burst (so a steady stream of changes still gets pushed).
 * `fn` learns when the burst began.
 */
export class Debouncer {
  private timer: unknown;
  /** Whether the pending run is a quiet spell's immediate one. */
  private immediate = false;
  private firstAt: number | undefined;
  private lastRunAt = -Infinity;

  constructor(
    private readonly fn: (burstStartedAt: number) => void,
    private readonly opts: { quietMs: number; maxDelayMs: number; timers?: Timers; now?: () => number },
  ) {}

  private get timers(): Timers {
    return this.opts.timers ?? realTimers;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  trigger(): void {
    if (this.timer !== undefined && this.immediate) return; // it runs next turn and takes this one too
    const now = this.now();
    this.firstAt ??= now;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.immediate = this.timer === undefined && now - this.lastRunAt >= this.opts.quietMs;
    const delay = this.immediate ? 0 : Math.max(0, Math.min(this.opts.quietMs, this.firstAt + this.opts.maxDelayMs - now));
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
    this.lastRunAt = this.now();
    this.fn(started);
  }
}
