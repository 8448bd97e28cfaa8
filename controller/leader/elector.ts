import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';
import { sameRecord, type LeaseLock, type LeaseRecord } from './lock.js';

/**
 * Leader election over a Lease, with client-go's leaderelection semantics:
 *
 * - A candidate tries every retry period (jittered, so replicas do not
 *   collide): it takes the Lease when there is none, when its holder released
 *   it, or when the record has not changed for a lease duration as this
 *   replica's clock measures it. Another replica's timestamps are never
 *   compared with this clock: a record is timed from when it was seen to change.
 * - The leader renews every retry period. Every write goes over the version
 *   last read (the lock's optimistic concurrency), so of two replicas acting
 *   on one observation only one succeeds.
 * - The leader stops leading, at once and whatever its requests are doing,
 *   once a renew deadline has passed since the last renewal that succeeded;
 *   the deadline being shorter than the lease duration, it has stopped before
 *   any other replica may take over. It then runs for the Lease again.
 * - A graceful stop releases the Lease (no holder, a one-second duration), so
 *   another replica takes over at its next try instead of a lease duration later.
 */

/** Whether this replica may write now, and news when that changes. What the reconcile loops gate their passes on. */
export interface Leadership {
  /** True while this replica leads (always, without election). */
  readonly isLeader: boolean;
  /** Calls `fn` after every change of `isLeader`; returns what stops the calls. */
  onChange(fn: (leading: boolean) => void): () => void;
}

/** Without election, the one replica always writes. */
export const ALWAYS_LEADER: Leadership = Object.freeze({ isLeader: true, onChange: () => () => undefined });

export interface ElectionTiming {
  /** How long the others wait after the last renewal they saw before they take over; whole seconds (the Lease field is). */
  leaseDurationMs: number;
  /** The leader stops leading when it has not renewed for this long; less than the lease duration. */
  renewDeadlineMs: number;
  /** Between tries, to acquire or to renew. */
  retryPeriodMs: number;
}

export interface LeaderElectorOptions extends ElectionTiming {
  lock: LeaseLock;
  /** This replica's name in the Lease (the pod name). */
  identity: string;
  log: Logger;
  timers?: Timers;
  /** The local clock, in ms. Default Date.now. */
  now?: () => number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** client-go's: a candidate waits between one and 2.2 retry periods, so replicas started together spread out. */
const JITTER_FACTOR = 1.2;

type State = 'idle' | 'candidate' | 'leader' | 'stopped';

/** What /debug/leader shows. */
export interface ElectionStatus {
  lease: string;
  identity: string;
  state: State;
  leading: boolean;
  /** The holder in the record last seen ('' when released, undefined before the first read). */
  leader: string | undefined;
  /** When (this clock) the record was last seen to change, and what it said. */
  observedAt: string | undefined;
  record: LeaseRecord | undefined;
  /** When (this clock) the last renewal that succeeded was sent. */
  renewedAt: string | undefined;
}

/** The timing rules client-go enforces, so a misconfiguration is refused at start rather than letting two replicas lead. */
export function timingProblem(t: ElectionTiming): string | undefined {
  if (!(t.retryPeriodMs > 0)) return 'the retry period must be positive';
  if (t.leaseDurationMs < 1000 || t.leaseDurationMs % 1000 !== 0) return 'the lease duration must be whole seconds, at least 1s (the Lease holds seconds)';
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) return 'the lease duration must be longer than the renew deadline (the leader must stop before others may take over)';
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) return `the renew deadline must be longer than ${JITTER_FACTOR} retry periods (room for a retry)`;
  return undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class LeaderElector implements Leadership {
  private readonly o: LeaderElectorOptions;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private state: State = 'idle';
  private readonly listeners = new Set<(leading: boolean) => void>();
  /** The record last seen or written, and when (this clock) it was seen to change. */
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  /** When the last renewal (or acquisition) that succeeded was sent. */
  private renewedAt: number | undefined;
  private tryTimer: unknown;
  private deadlineTimer: unknown;
  /** The try in flight; one at a time, so the lock's remembered version is never raced by this replica itself. */
  private inFlight: Promise<void> | undefined;

  constructor(o: LeaderElectorOptions) {
    const problem = timingProblem(o);
    if (problem) throw new RangeError(`leader election: ${problem}`);
    this.o = o;
    this.timers = o.timers ?? realTimers;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  get isLeader(): boolean {
    return this.state === 'leader';
  }

  /** The holder last seen; '' when released, undefined before the first read. */
  get leader(): string | undefined {
    return this.observed?.holderIdentity;
  }

  onChange(fn: (leading: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Starts running for the Lease: the first try at once. */
  start(): void {
    if (this.state !== 'idle') return;
    this.setState('candidate');
    this.scheduleTry(0);
  }

  /**
   * Stops: stops leading at once (listeners hear it before anything is
   * awaited), waits for the try in flight, then releases the Lease if this
   * replica holds it, unless `release` is false (a crash, in tests).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('stopped');
    this.clearTimers();
    await this.inFlight;
    if (opts.release !== false) await this.release();
  }

  status(): ElectionStatus {
    return {
      lease: this.o.lock.describe,
      identity: this.o.identity,
      state: this.state,
      leading: this.isLeader,
      leader: this.leader,
      observedAt: this.observed ? iso(this.observedAt) : undefined,
      record: this.observed,
      renewedAt: this.renewedAt === undefined ? undefined : iso(this.renewedAt),
    };
  }

  private scheduleTry(delayMs: number): void {
    if (this.tryTimer !== undefined) this.timers.clearTimeout(this.tryTimer);
    this.tryTimer = this.timers.setTimeout(() => {
      this.tryTimer = undefined;
      this.inFlight = this.tryOnce().finally(() => (this.inFlight = undefined));
    }, delayMs);
  }

  /** One try to acquire or renew, then the next one scheduled by the state it left. */
  private async tryOnce(): Promise<void> {
    const sentAt = this.now();
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew(sentAt);
    } catch (err) {
      this.o.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'bug: a leader election try threw; will retry');
    }
    if (this.state === 'stopped') return;
    // A success that came back after the deadline proves nothing about now: others may be about to take over.
    if (ok && this.now() - sentAt < this.o.renewDeadlineMs) {
      this.renewedAt = sentAt;
      if (this.state !== 'leader') this.setState('leader');
      this.armDeadline(sentAt + this.o.renewDeadlineMs);
      this.scheduleTry(this.o.retryPeriodMs);
      return;
    }
    // A leader retries within its deadline every retry period, as client-go's renew loop polls; a candidate with jitter.
    this.scheduleTry(this.state === 'leader' ? this.o.retryPeriodMs : this.o.retryPeriodMs * (1 + this.random() * JITTER_FACTOR));
  }

  private armDeadline(at: number): void {
    if (this.deadlineTimer !== undefined) this.timers.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = this.timers.setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.state !== 'leader') return;
      this.o.log.warn(
        { code: 'AMBIT_ERR_LEADER_ELECTION', lease: this.o.lock.describe, identity: this.o.identity, renewedAt: this.renewedAt === undefined ? undefined : iso(this.renewedAt) },
        `could not renew ${this.o.lock.describe} within ${this.o.renewDeadlineMs} ms: no longer leading (status and Waypoints are left to whichever replica takes it); running for it again`,
      );
      this.setState('candidate');
    }, Math.max(0, at - this.now()));
  }

  /** client-go's tryAcquireOrRenew: true when this replica holds the Lease with a renewal sent at `now`. */
  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const lock = this.o.lock;
    const mine: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.o.leaseDurationMs / 1000,
      acquireTime: iso(now),
      renewTime: iso(now),
      leaseTransitions: 0,
    };

    // 1. The holder renews over the version it wrote last, without reading first: one request while all goes well.
    if (this.holdsObserved() && this.observedValid(now)) {
      const renewal = { ...mine, acquireTime: this.observed!.acquireTime, leaseTransitions: this.observed!.leaseTransitions };
      const r = await lock.update(renewal);
      if (r.ok) {
        this.observe(renewal);
        return true;
      }
      this.o.log.debug({ lease: lock.describe, reason: r.error.reason, err: r.error.message }, 'renewing over the last version failed; reading the Lease');
    }

    // 2. Read it, or create it.
    const got = await lock.get();
    if (!got.ok) {
      this.o.log.warn({ code: 'AMBIT_ERR_LEADER_ELECTION', lease: lock.describe, status: got.error.status, err: got.error.message }, `reading ${lock.describe} failed; will retry`);
      return false;
    }
    if (got.value === undefined) {
      const r = await lock.create(mine);
      if (!r.ok) {
        if (r.error.reason !== 'conflict') this.o.log.warn({ code: 'AMBIT_ERR_LEADER_ELECTION', lease: lock.describe, status: r.error.status, err: r.error.message }, `creating ${lock.describe} failed; will retry`);
        return false;
      }
      this.observe(mine);
      return true;
    }

    // 3. Time the record by when it was seen to change, never by its own timestamps.
    const current = got.value;
    if (!sameRecord(current, this.observed)) this.observe(current);
    if (current.holderIdentity !== '' && !this.holdsObserved() && this.observedValid(now)) return false;

    // 4. Free, expired, or ours: write over the version just read. A conflict is another replica winning.
    const next = this.holdsObserved() ? { ...mine, acquireTime: current.acquireTime, leaseTransitions: current.leaseTransitions } : { ...mine, leaseTransitions: current.leaseTransitions + 1 };
    const r = await lock.update(next);
    if (!r.ok) {
      if (r.error.reason !== 'conflict') this.o.log.warn({ code: 'AMBIT_ERR_LEADER_ELECTION', lease: lock.describe, status: r.error.status, err: r.error.message }, `writing ${lock.describe} failed; will retry`);
      else this.o.log.debug({ lease: lock.describe }, 'another replica wrote the Lease first');
      return false;
    }
    this.observe(next);
    return true;
  }

  /** client-go's release: no holder and a one-second duration, over the version last seen (a conflict: someone else holds it now). */
  private async release(): Promise<void> {
    if (!this.holdsObserved()) return;
    const now = iso(this.now());
    const released: LeaseRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: this.observed!.leaseTransitions };
    const r = await this.o.lock.update(released);
    if (!r.ok) {
      this.o.log.warn({ code: 'AMBIT_ERR_LEADER_ELECTION', lease: this.o.lock.describe, err: r.error.message }, `releasing ${this.o.lock.describe} failed; another replica takes it once it expires`);
      return;
    }
    this.observe(released);
    this.o.log.info({ lease: this.o.lock.describe, identity: this.o.identity }, `released ${this.o.lock.describe}`);
  }

  private holdsObserved(): boolean {
    return this.observed?.holderIdentity === this.o.identity;
  }

  private observedValid(now: number): boolean {
    return this.observed !== undefined && this.observedAt + this.observed.leaseDurationSeconds * 1000 > now;
  }

  private observe(record: LeaseRecord): void {
    const before = this.observed?.holderIdentity;
    this.observed = record;
    this.observedAt = this.now();
    if ((before ?? '') !== record.holderIdentity) {
      this.o.log.info({ lease: this.o.lock.describe, from: before ?? null, to: record.holderIdentity }, `leader: ${before || '(none)'} -> ${record.holderIdentity || '(none)'}`);
    }
  }

  private setState(next: State): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    this.o.log.info({ lease: this.o.lock.describe, identity: this.o.identity }, `election: ${prev} -> ${next}`);
    if ((prev === 'leader') === (next === 'leader')) return;
    for (const fn of [...this.listeners]) {
      try {
        fn(next === 'leader');
      } catch (err) {
        this.o.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'bug: a leadership listener threw');
      }
    }
  }

  private clearTimers(): void {
    if (this.tryTimer !== undefined) this.timers.clearTimeout(this.tryTimer);
    if (this.deadlineTimer !== undefined) this.timers.clearTimeout(this.deadlineTimer);
    this.tryTimer = this.deadlineTimer = undefined;
  }
}
