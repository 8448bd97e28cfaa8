import { exponentialBackoff, type Backoff } from '../lib/backoff.js';
import { realTimers, type Timers } from '../lib/xds/timers.js';
import { ALWAYS_LEADER, type Leadership } from './leader/index.js';

/**
 * The serial loop of a level-triggered reconciler: what to do in a pass is
 * the reconciler's, when passes run is this loop's.
 *
 * One pass at a time: a pass asked for while one runs makes another pass run
 * right after it, however many were asked for. A pass that reports failures
 * is run again after a backoff, and the backoff starts over after a pass
 * without any; after such a pass a full one runs every `resyncMs` in any case,
 * when set. Rescheduling after a pass never pushes back a pass already due
 * sooner (one a change asked for during the pass, say).
 *
 * Only the leader writes: with `leadership`, passes run only while this
 * replica leads. Losing it cancels what is pending and tells the pass that
 * runs to end before its next write (`halted`); gaining it runs a full pass
 * at once, since the changes that came meanwhile asked for none. Every writer
 * built on this loop is gated the same way, with nothing of its own to add
 * but passing `leadership` through and checking `halted` between writes.
 */

/** When passes run: what a reconciler's options pass through to its loop. */
export interface ReconcileTiming {
  timers?: Timers;
  /** Coalesces bursts of changes. Default 100 ms. */
  debounceMs?: number;
  /** Between retries of a pass that failed. Default 500 ms doubling up to 30 s, jittered. */
  backoff?: Backoff;
  /** Passes run only while this says the replica leads. Default: always (one replica, or no election). */
  leadership?: Leadership;
}

export interface ReconcileLoopOptions extends ReconcileTiming {
  /** One full pass; resolves to how many failures a later pass may fix (0: everything is in place). */
  pass: () => Promise<number>;
  /** A pass threw (a bug): the reconciler logs it, and the pass is retried like a failed one. */
  onError: (err: unknown) => void;
  /** The clock timers are due by, in ms. Default Date.now. */
  now?: () => number;
  /** After a pass without failures, the next full pass runs this much later when nothing asks sooner. Default: none. */
  resyncMs?: number;
}

export class ReconcileLoop {
  private readonly pass: () => Promise<number>;
  private readonly onError: (err: unknown) => void;
  private readonly timers: Timers;
  private readonly debounceMs: number;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly resyncMs: number | undefined;
  private readonly leadership: Leadership;
  private readonly unsubscribe: () => void;
  /** A pass has been asked for: the owner has started the loop, so gaining leadership runs one. */
  private asked = false;
  private timer: unknown;
  /** When the pending timer fires, by `now`. */
  private dueAt = 0;
  private running = false;
  /** Callers of idle() waiting for the running pass to end. */
  private idleWaiters: (() => void)[] = [];
  private again = false;
  private stoppedFlag = false;

  constructor(o: ReconcileLoopOptions) {
    this.pass = o.pass;
    this.onError = o.onError;
    this.timers = o.timers ?? realTimers;
    this.debounceMs = o.debounceMs ?? 100;
    this.now = o.now ?? Date.now;
    this.backoff = o.backoff ?? exponentialBackoff(500, 30_000);
    this.resyncMs = o.resyncMs;
    this.leadership = o.leadership ?? ALWAYS_LEADER;
    this.unsubscribe = this.leadership.onChange((leading) => (leading ? this.gained() : this.lost()));
  }

  /** Once stopped, no pass starts. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** A pass that runs should end before its next write: the loop was stopped, or this replica does not lead (any more). */
  get halted(): boolean {
    return this.stoppedFlag || !this.leadership.isLeader;
  }

  /** Something the passes read changed: a pass after `debounceMs`, pushed back by each further change. */
  changed(): void {
    this.schedule(this.debounceMs);
  }

  /**
   * Runs a pass after `delayMs`, replacing the pending one (so a burst of
   * changes debounces); with `unlessSooner`, not when one is due sooner already.
   */
  schedule(delayMs: number, unlessSooner = false): void {
    if (this.stoppedFlag) return;
    this.asked = true;
    // A follower keeps nothing pending: it runs a full pass when it leads.
    if (!this.leadership.isLeader) return;
    const due = this.now() + delayMs;
    if (this.timer !== undefined) {
      if (unlessSooner && this.dueAt <= due) return;
      this.timers.clearTimeout(this.timer);
    }
    this.dueAt = due;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
  }

  /**
   * Runs a pass now, and resolves when it is done; while one runs, asks for
   * another after it and resolves at once.
   */
  async run(): Promise<void> {
    if (this.stoppedFlag) return;
    this.asked = true;
    if (!this.leadership.isLeader) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let failures = 0;
    try {
      do {
        this.again = false;
        failures = await this.pass();
      } while (this.again && !this.halted);
    } catch (err) {
      failures = 1;
      this.onError(err);
    } finally {
      this.running = false;
      for (const fn of this.idleWaiters.splice(0)) fn();
    }
    // Stopped, or no longer leading: gaining leadership again runs a pass.
    if (this.halted) return;
    // A change that came during the pass has its own pass scheduled already; keep it.
    if (failures > 0) this.schedule(this.backoff.next(), true);
    else {
      this.backoff.reset();
      if (this.resyncMs !== undefined) this.schedule(this.resyncMs, true);
    }
  }

  /**
   * Resolves once no pass runs: after stop(), when the last write is done, so
   * a leader hands its Lease over only once it has stopped writing.
   */
  idle(): Promise<void> {
    return this.running ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** Cancels the pending pass; none starts after this. */
  stop(): void {
    this.stoppedFlag = true;
    this.unsubscribe();
    this.cancel();
  }

  private gained(): void {
    if (this.stoppedFlag || !this.asked) return;
    this.backoff.reset();
    this.schedule(0);
  }

  private lost(): void {
    this.cancel();
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
