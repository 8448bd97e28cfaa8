import type { Counter } from 'prom-client';
import { toApiRequestError } from '../../lib/k8s/errors.js';
import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';
import { TokenBucket } from '../../lib/token-bucket.js';
import { ALWAYS_LEADER, type Leadership } from '../leader/index.js';
import type { EventBody, EventSink } from './sink.js';
import type { EventRecord, EventRecorder, ObjectReference } from './types.js';

/**
 * Writes recorded Events to the API server as client-go's events.k8s.io/v1
 * recorder does, so a flapping object cannot flood it:
 *
 * - Aggregation: an Event like one recorded within `windowMs` (same object,
 *   type, reason, action and note) is not written again; the first Event
 *   gets a `series` (count, lastObservedTime) by merge patch instead. The
 *   first repeat is written at once, later ones at most every
 *   `seriesIntervalMs` (client-go waits for a 30-minute heartbeat). The note
 *   is part of the key, unlike client-go's: ours carry what differs (which
 *   field is invalid, which Service is missing).
 * - A per-object limit on new Events: a burst of `perObjectBurst`, then one
 *   per `perObjectRefillMs` (client-go's spam filter: 25, then one per 5
 *   minutes). Repeats are not limited: they cost no new object, and their
 *   writes are spaced by `seriesIntervalMs`.
 * - Bounded memory: the last `maxEvents` Events (and objects) seen, least
 *   recently seen forgotten first; at most `maxQueue` writes waiting.
 * - Asynchronous: `record` returns at once and never throws. One write at a
 *   time; a write that got no answer, 429 or 5xx is tried again after
 *   `retryDelayMs`, up to `maxTries`; any other refusal drops it. Failures
 *   and drops are logged at most once per `logIntervalMs`.
 * - Only the leader writes: a follower drops what it records, and losing
 *   the lead drops what waits.
 *
 * Every recorded occurrence is counted once in `counter`, by what became of
 * it (EventResult).
 */

/** The reportingController of every Event the controller writes. */
export const REPORTING_CONTROLLER = 'ambit.dev/controller';

/**
 * What became of a recorded occurrence: written as a new Event (`created`)
 * or counted in an earlier one's series (`aggregated`); or not written:
 * over the per-object limit, recorded or pending on a replica that does not
 * lead, dropped (queue full, or pending at shutdown), or refused by the API.
 */
export type EventResult = 'created' | 'aggregated' | 'rate_limited' | 'not_leader' | 'dropped' | 'failed';

export interface EventLimits {
  /** A repeat within this long of the last occurrence is counted on the same Event (client-go: 6 min). */
  windowMs: number;
  /** The series of one Event is written at most this often; the first repeat at once. */
  seriesIntervalMs: number;
  /** Events remembered for aggregation, and objects for the per-object limit (client-go: 4096). */
  maxEvents: number;
  /** New Events per object: a burst, then one per refill interval. */
  perObjectBurst: number;
  perObjectRefillMs: number;
  /** Writes waiting; beyond, what is recorded is dropped. */
  maxQueue: number;
  /** Tries of a write that failed in a way that may pass (no answer, 429, 5xx). */
  maxTries: number;
  retryDelayMs: number;
  /** At most one warning line per this long; it says how many it stands for. */
  logIntervalMs: number;
}

export const DEFAULT_EVENT_LIMITS: Readonly<EventLimits> = Object.freeze({
  windowMs: 6 * 60_000,
  seriesIntervalMs: 10_000,
  maxEvents: 4096,
  perObjectBurst: 25,
  perObjectRefillMs: 5 * 60_000,
  maxQueue: 1000,
  maxTries: 3,
  retryDelayMs: 5_000,
  logIntervalMs: 30_000,
});

export interface EventWriterOptions {
  sink: EventSink;
  /** This replica: the pod name (at most 128 characters are kept). */
  reportingInstance: string;
  log: Logger;
  /** Writes only while this says the replica leads. Default: always. */
  leadership?: Leadership;
  counter?: Counter<'type' | 'reason' | 'result'>;
  limits?: Partial<EventLimits>;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  timers?: Timers;
}

/** One Event as written (or to be written), and its occurrences. */
interface Entry {
  readonly key: string;
  readonly body: EventBody;
  count: number;
  lastObservedMs: number;
  /** Occurrences the API server has: counted in the metric. */
  written: number;
  /** Occurrences the request in flight carries; 0 when none is. */
  sending: number;
  /** The Event exists, so a repeat is a series patch. */
  exists: boolean;
  /** A write is queued or in flight, or waits on `timer`. */
  busy: boolean;
  timer: unknown;
  lastPatchMs: number;
  tries: number;
  /** Nothing more is written for it (counted as dropped or not_leader). */
  forgotten: boolean;
}

const NOTE_BYTES = 1024;
const FIELD_CHARS = 128;
const NAME_CHARS = 253;

/** MicroTime text: what the API server decodes (RFC 3339 with six fractional digits). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** At most `max` bytes of UTF-8, cut at a character boundary. */
function cutBytes(s: string, max: number): string {
  const buf = Buffer.from(s);
  if (buf.length <= max) return s;
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // not inside a multi-byte character
  return buf.subarray(0, end).toString();
}

const objectKey = (r: ObjectReference): string => r.uid || `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
const describe = (r: ObjectReference): string => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/** A Map used as a bounded LRU: `touch` moves a key to the back, the front is evicted first. */
function touch<K, V>(m: Map<K, V>, k: K, v: V): void {
  m.delete(k);
  m.set(k, v);
}

export class EventWriter implements EventRecorder {
  private readonly o: EventWriterOptions;
  private readonly limits: EventLimits;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly leadership: Leadership;
  private readonly unsubscribe: () => void;
  private readonly instance: string;
  private readonly events = new Map<string, Entry>();
  private readonly perObject = new Map<string, TokenBucket>();
  private queue: Entry[] = [];
  /** Entries whose next write waits on a timer (evicted ones too). */
  private readonly waiting = new Set<Entry>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Makes names unique within one clock millisecond. */
  private seq = 0;
  private closed = false;
  private loggedAt = -Infinity;
  private unlogged = 0;

  constructor(opts: EventWriterOptions) {
    this.o = opts;
    this.limits = { ...DEFAULT_EVENT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.leadership = opts.leadership ?? ALWAYS_LEADER;
    this.instance = opts.reportingInstance.slice(0, FIELD_CHARS);
    this.unsubscribe = this.leadership.onChange((leading) => {
      if (!leading) this.forgetAll('not_leader');
    });
  }

  record(e: EventRecord): void {
    try {
      this.recordOne(e);
    } catch (err) {
      this.o.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'bug: recording an Event threw; it is dropped');
    }
  }

  /** Resolves once nothing is queued or in flight (writes waiting on a timer may remain): for tests. */
  idle(): Promise<void> {
    return this.draining || this.queue.length > 0 ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /**
   * Stops recording; writes what waits (series due later too) for up to
   * `drainMs`, then drops the rest. Resolves when no write is in flight.
   */
  async close(drainMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const entry of [...this.waiting]) {
      this.cancelTimer(entry);
      this.enqueue(entry);
    }
    let timer: unknown;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = this.timers.setTimeout(resolve, drainMs)))]);
    this.timers.clearTimeout(timer);
    this.forgetAll('dropped');
    await this.idle();
  }

  private recordOne(e: EventRecord): void {
    if (this.closed) return;
    if (!this.leadership.isLeader) {
      this.count(e, 'not_leader', 1);
      return;
    }
    const note = cutBytes(e.note, NOTE_BYTES);
    const key = JSON.stringify([objectKey(e.regarding), e.regarding.kind, e.regarding.namespace, e.regarding.name, e.type, e.reason, e.action, note]);
    const now = this.now();
    let entry = this.events.get(key);
    if (entry && now - entry.lastObservedMs > this.limits.windowMs) {
      this.evict(entry);
      entry = undefined;
    }
    if (entry) {
      touch(this.events, key, entry);
      entry.count++;
      entry.lastObservedMs = now;
      if (!entry.busy) this.schedule(entry);
      return;
    }
    if (!this.bucket(e.regarding).take()) {
      this.count(e, 'rate_limited', 1);
      this.warn({ object: describe(e.regarding), reason: e.reason }, `dropping Events about ${describe(e.regarding)}: more than ${this.limits.perObjectBurst} new ones, then one per ${this.limits.perObjectRefillMs / 1000} s, are written per object`);
      return;
    }
    entry = {
      key,
      body: this.body(e, note, now),
      count: 1,
      lastObservedMs: now,
      written: 0,
      sending: 0,
      exists: false,
      busy: false,
      timer: undefined,
      lastPatchMs: -Infinity,
      tries: 0,
      forgotten: false,
    };
    this.events.set(key, entry);
    if (this.events.size > this.limits.maxEvents) this.evict(this.events.values().next().value!);
    this.schedule(entry);
  }

  private body(e: EventRecord, note: string, now: number): EventBody {
    const r = e.regarding;
    // As client-go names them: the object's name and the time in nanoseconds, in hex (a counter stands in for the nanoseconds a JavaScript clock lacks).
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return {
      metadata: { name: `${r.name.slice(0, NAME_CHARS - suffix.length - 1)}.${suffix}`, namespace: r.namespace || 'default' },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action: e.action.slice(0, FIELD_CHARS),
      reason: e.reason.slice(0, FIELD_CHARS),
      regarding: { ...r },
      note,
      type: e.type,
    };
  }

  private bucket(r: ObjectReference): TokenBucket {
    const k = objectKey(r);
    let b = this.perObject.get(k);
    if (!b) {
      b = new TokenBucket({ maxTokens: this.limits.perObjectBurst, tokensPerFill: 1, fillIntervalMs: this.limits.perObjectRefillMs }, this.now);
      if (this.perObject.size >= this.limits.maxEvents) this.perObject.delete(this.perObject.keys().next().value!);
    }
    touch(this.perObject, k, b);
    return b;
  }

  /** Writes the entry's occurrences: now, or once its series may be written again. */
  private schedule(entry: Entry): void {
    entry.busy = true;
    const wait = entry.exists ? entry.lastPatchMs + this.limits.seriesIntervalMs - this.now() : 0;
    if (wait <= 0) this.enqueue(entry);
    else this.later(entry, wait);
  }

  private later(entry: Entry, ms: number): void {
    entry.busy = true;
    this.waiting.add(entry);
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = undefined;
      this.waiting.delete(entry);
      this.enqueue(entry);
    }, ms);
  }

  /** Whether a write was waiting on a timer (now cancelled). */
  private cancelTimer(entry: Entry): boolean {
    if (entry.timer === undefined) return false;
    this.timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    this.waiting.delete(entry);
    return true;
  }

  private enqueue(entry: Entry): void {
    if (entry.forgotten) return;
    if (this.queue.length >= this.limits.maxQueue) {
      this.forget(entry, 'dropped');
      this.warn({ queued: this.queue.length }, `dropping Events: ${this.limits.maxQueue} writes are waiting for the API server`);
      return;
    }
    this.queue.push(entry);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let entry = this.queue.shift(); entry; entry = this.queue.shift()) {
        if (entry.forgotten) continue;
        if (!this.leadership.isLeader) {
          this.forget(entry, 'not_leader');
          continue;
        }
        await this.write(entry);
      }
    } finally {
      this.draining = false;
      for (const fn of this.idleWaiters.splice(0)) fn();
    }
  }

  /** One request: the Event (with its series when it has repeats already), or its series. */
  private async write(entry: Entry): Promise<void> {
    const sent = entry.count;
    entry.sending = sent;
    const series = sent > 1 ? { count: sent, lastObservedTime: microTime(entry.lastObservedMs) } : undefined;
    const patching = entry.exists;
    const { name, namespace } = entry.body.metadata;
    try {
      if (patching) await this.o.sink.patchSeries(namespace, name, series!);
      else await this.o.sink.create(series ? { ...entry.body, series } : entry.body);
    } catch (err) {
      // Already there: ours (names are unique per writer), from a create whose answer was lost.
      if (patching || toApiRequestError(err).code !== 409) {
        const inFlight = sent - entry.written;
        entry.sending = 0;
        this.failed(entry, patching, err, inFlight);
        return;
      }
    }
    entry.sending = 0;
    // The first occurrence is `created` once, also when an expired Event is created anew.
    if (entry.written === 0) this.count(entry.body, 'created', 1);
    this.count(entry.body, 'aggregated', sent - Math.max(entry.written, 1));
    entry.written = sent;
    entry.exists = true;
    entry.tries = 0;
    if (patching) entry.lastPatchMs = this.now();
    entry.busy = false;
    if (!entry.forgotten && entry.count > entry.written) this.schedule(entry);
  }

  /** A write failed: tried again when that may help, else dropped (and logged). */
  private failed(entry: Entry, patching: boolean, err: unknown, inFlight: number): void {
    const e = toApiRequestError(err);
    entry.busy = false;
    if (entry.forgotten) {
      // What it had not written was counted when it was forgotten, but for this request's share.
      this.count(entry.body, 'failed', inFlight);
      return;
    }
    // The Event is gone (clusters keep Events an hour): created anew, with its series, at once.
    const gone = patching && e.code === 404;
    const transient = e.code === undefined || e.code === 429 || e.code >= 500;
    if ((gone || transient) && ++entry.tries < this.limits.maxTries) {
      entry.busy = true;
      if (gone) {
        entry.exists = false;
        this.enqueue(entry);
      } else this.later(entry, this.limits.retryDelayMs);
      return;
    }
    this.forget(entry, 'failed');
    this.warn(
      { code: 'AMBIT_ERR_API', status: e.code, err: e.message, object: describe(entry.body.regarding), reason: entry.body.reason },
      `could not ${patching ? 'update' : 'create'} Event ${entry.body.metadata.namespace}/${entry.body.metadata.name} about ${describe(entry.body.regarding)}; it is dropped`,
    );
  }

  /** No longer aggregated: what it has not written yet is written at once. */
  private evict(entry: Entry): void {
    if (this.events.get(entry.key) === entry) this.events.delete(entry.key);
    if (this.cancelTimer(entry)) this.enqueue(entry);
  }

  /** Nothing more is written for it; what it has not written (and is not writing) is counted as `result`. */
  private forget(entry: Entry, result: EventResult): void {
    if (entry.forgotten) return;
    entry.forgotten = true;
    if (this.events.get(entry.key) === entry) this.events.delete(entry.key);
    this.cancelTimer(entry);
    entry.busy = false;
    this.count(entry.body, result, entry.count - Math.max(entry.written, entry.sending));
  }

  private forgetAll(result: EventResult): void {
    for (const entry of [...this.events.values(), ...this.queue, ...this.waiting]) this.forget(entry, result);
    this.queue = [];
    this.perObject.clear();
  }

  private count(e: Pick<EventRecord, 'type' | 'reason'>, result: EventResult, n: number): void {
    if (n > 0) this.o.counter?.inc({ type: e.type, reason: e.reason, result }, n);
  }

  private warn(fields: Record<string, unknown>, msg: string): void {
    const now = this.now();
    if (now - this.loggedAt < this.limits.logIntervalMs) {
      this.unlogged++;
      return;
    }
    this.o.log.warn({ ...fields, ...(this.unlogged > 0 ? { alsoSinceLastLine: this.unlogged } : {}) }, msg);
    this.loggedAt = now;
    this.unlogged = 0;
  }
}
