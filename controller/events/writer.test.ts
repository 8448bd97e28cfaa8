import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { ApiRequestError } from '../../lib/k8s/errors.js';
import { manualTimers } from '../../lib/testing/manual-timers.js';
import type { Leadership } from '../leader/index.js';
import type { EventBody, EventSeries, EventSink } from './sink.js';
import type { EventRecord } from './types.js';
import { EventWriter, microTime, type EventLimits } from './writer.js';

/** Lets the promises the writer started settle. */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

type Call = { op: 'create'; body: EventBody } | { op: 'patch'; namespace: string; name: string; series: EventSeries };

/** A sink that records calls; `fail` answers the next calls with errors, `hold` keeps them pending until `release()`. */
function fakeSink() {
  const calls: Call[] = [];
  const fail: (ApiRequestError | undefined)[] = [];
  let hold = false;
  const waiting: (() => void)[] = [];
  const answer = async (c: Call) => {
    calls.push(c);
    if (hold) await new Promise<void>((r) => waiting.push(r));
    const err = fail.shift();
    if (err) throw err;
  };
  const sink: EventSink = {
    create: (body) => answer({ op: 'create', body }),
    patchSeries: (namespace, name, series) => answer({ op: 'patch', namespace, name, series }),
  };
  return {
    sink,
    calls,
    fail,
    hold: (on: boolean) => void (hold = on),
    release: () => waiting.splice(0).forEach((r) => r()),
  };
}

function leadership(initial: boolean) {
  const fns: ((l: boolean) => void)[] = [];
  const l = {
    isLeader: initial,
    onChange: (fn: (l: boolean) => void) => (fns.push(fn), () => undefined),
    set(v: boolean) {
      l.isLeader = v;
      for (const fn of fns) fn(v);
    },
  };
  return l as Leadership & { set(v: boolean): void };
}

function setup(opts: { limits?: Partial<EventLimits>; leading?: boolean } = {}) {
  const timers = manualTimers(Date.parse('2026-03-01T10:00:00Z'));
  const registry = new Registry();
  const counter = new Counter({ name: 'ambit_controller_events_total', help: 'h', labelNames: ['type', 'reason', 'result'], registers: [registry] });
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const fake = fakeSink();
  const lead = leadership(opts.leading ?? true);
  const writer = new EventWriter({ sink: fake.sink, reportingInstance: 'ambit-controller-7d9f-abcde', log, leadership: lead, counter, timers, now: () => timers.now, ...(opts.limits ? { limits: opts.limits } : {}) });
  const results = async () => Object.fromEntries((await counter.get()).values.map((v) => [`${v.labels.type}/${v.labels.reason}/${v.labels.result}`, v.value]));
  return { timers, writer, lines, lead, results, ...fake };
}

const ap = (name = 'deny-all', uid = 'uid-1'): EventRecord['regarding'] => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', namespace: 'shop', name, uid, resourceVersion: '42' });
const invalid = (over: Partial<EventRecord> = {}): EventRecord => ({ regarding: ap(), type: 'Warning', reason: 'Invalid', action: 'Accepted', note: 'Accepted False: Rejected: spec.action must be ALLOW or DENY.', ...over });

describe('EventWriter', () => {
  it('creates an events.k8s.io/v1 Event about the object, named and timed as the API server expects', async () => {
    const t = setup();
    t.writer.record(invalid());
    await flush();
    assert.equal(t.calls.length, 1);
    const c = t.calls[0]!;
    assert.equal(c.op, 'create');
    const body = (c as { body: EventBody }).body;
    assert.deepEqual({ ...body, metadata: undefined }, {
      metadata: undefined,
      eventTime: '2026-03-01T10:00:00.000000Z',
      reportingController: 'ambit.dev/controller',
      reportingInstance: 'ambit-controller-7d9f-abcde',
      action: 'Accepted',
      reason: 'Invalid',
      regarding: ap(),
      note: 'Accepted False: Rejected: spec.action must be ALLOW or DENY.',
      type: 'Warning',
    });
    assert.equal(body.metadata.namespace, 'shop');
    assert.match(body.metadata.name, /^deny-all\.[0-9a-f]+$/);
    assert.deepEqual(await t.results(), { 'Warning/Invalid/created': 1 });
  });

  it('aggregates repeats into a series: the first at once, later ones at most every seriesIntervalMs', async () => {
    const t = setup({ limits: { seriesIntervalMs: 10_000 } });
    t.writer.record(invalid());
    await flush();
    t.timers.advance(1000);
    t.writer.record(invalid());
    await flush();
    const name = (t.calls[0] as { body: EventBody }).body.metadata.name;
    assert.deepEqual(t.calls[1], { op: 'patch', namespace: 'shop', name, series: { count: 2, lastObservedTime: microTime(t.timers.now) } });
    // Three more within the interval: one patch when it has passed, with the count and time of the last.
    for (let i = 0; i < 3; i++) {
      t.timers.advance(1000);
      t.writer.record(invalid());
    }
    const last = t.timers.now;
    await flush();
    assert.equal(t.calls.length, 2, 'nothing written before the interval');
    t.timers.advance(7000);
    await flush();
    assert.deepEqual(t.calls[2], { op: 'patch', namespace: 'shop', name, series: { count: 5, lastObservedTime: microTime(last) } });
    assert.deepEqual(await t.results(), { 'Warning/Invalid/created': 1, 'Warning/Invalid/aggregated': 4 });
    // A different note is a different Event.
    t.writer.record(invalid({ note: 'Accepted False: Rejected: spec.rules[0] is empty.' }));
    await flush();
    assert.equal(t.calls[3]!.op, 'create');
  });

  it('an occurrence after the window is a new Event', async () => {
    const t = setup({ limits: { windowMs: 60_000 } });
    t.writer.record(invalid());
    t.timers.advance(60_001);
    t.writer.record(invalid());
    await flush();
    assert.deepEqual(t.calls.map((c) => c.op), ['create', 'create']);
  });

  it('repeats recorded while the create is in flight go with it or right after it', async () => {
    const t = setup();
    t.hold(true);
    t.writer.record(invalid());
    await flush();
    t.writer.record(invalid());
    t.writer.record(invalid());
    t.hold(false);
    t.release();
    await flush();
    assert.deepEqual(t.calls.map((c) => (c.op === 'patch' ? `patch ${c.series.count}` : 'create')), ['create', 'patch 3']);
    // Queued before it was sent: the create carries the series.
    const u = setup();
    u.hold(true);
    u.writer.record(invalid({ regarding: ap('other', 'uid-2') }));
    u.writer.record(invalid());
    u.writer.record(invalid());
    u.hold(false);
    u.release();
    await flush();
    u.release();
    await flush();
    const second = u.calls[1] as { op: string; body: EventBody };
    assert.equal(second.op, 'create');
    assert.deepEqual(second.body.series, { count: 2, lastObservedTime: microTime(u.timers.now) });
    assert.deepEqual(await u.results(), { 'Warning/Invalid/created': 2, 'Warning/Invalid/aggregated': 1 });
  });

  it('limits new Events per object (a burst, then one per refill), not the repeats of one', async () => {
    const t = setup({ limits: { perObjectBurst: 3, perObjectRefillMs: 60_000 } });
    for (let i = 0; i < 5; i++) t.writer.record(invalid({ note: `note ${i}` }));
    t.writer.record(invalid({ note: 'note 0' })); // a repeat: counted in the first Event's series
    t.writer.record(invalid({ regarding: ap('other', 'uid-2') })); // another object has its own burst
    await flush();
    assert.deepEqual(t.calls.map((c) => (c.op === 'create' ? `${c.body.regarding.name} ${c.body.note}` : `patch ${c.series.count}`)), [
      'deny-all note 0',
      'deny-all note 1',
      'deny-all note 2',
      'other Accepted False: Rejected: spec.action must be ALLOW or DENY.',
      'patch 2',
    ]);
    assert.equal((await t.results())['Warning/Invalid/rate_limited'], 2);
    assert.equal(t.lines.filter((l) => /dropping Events about AuthorizationPolicy shop\/deny-all/.test(l.msg)).length, 1, 'logged once per interval');
    t.timers.advance(60_000);
    t.writer.record(invalid({ note: 'note 5' }));
    await flush();
    assert.equal(t.calls.length, 6, 'a refill allows one more');
  });

  it('remembers at most maxEvents: the least recently seen is forgotten, with its pending series written', async () => {
    const t = setup({ limits: { maxEvents: 2, seriesIntervalMs: 10_000 } });
    const a = invalid({ note: 'a' });
    t.writer.record(a);
    await flush();
    t.writer.record(a);
    await flush();
    t.writer.record(a); // waits for the interval
    t.writer.record(invalid({ note: 'b' }));
    t.writer.record(invalid({ note: 'c' })); // evicts a, whose count 3 is written now
    await flush();
    assert.deepEqual(t.calls.map((c) => (c.op === 'create' ? c.body.note : `patch ${c.series.count}`)), ['a', 'patch 2', 'b', 'patch 3', 'c']);
    t.writer.record(a); // forgotten: a new Event
    await flush();
    assert.equal(t.calls.at(-1)!.op, 'create');
    assert.equal(t.timers.pending, 0);
  });

  it('a failure never reaches the caller: retried when it may pass, dropped and logged (at a bounded rate) when not', async () => {
    const t = setup({ limits: { retryDelayMs: 5000, maxTries: 3 } });
    t.fail.push(new ApiRequestError(undefined, 'connect ECONNREFUSED'), new ApiRequestError(503, 'unavailable'));
    assert.doesNotThrow(() => t.writer.record(invalid()));
    await flush();
    t.timers.advance(5000);
    await flush();
    t.timers.advance(5000);
    await flush();
    assert.equal(t.calls.length, 3);
    assert.deepEqual(await t.results(), { 'Warning/Invalid/created': 1 });

    t.fail.push(new ApiRequestError(403, 'events.events.k8s.io is forbidden'), new ApiRequestError(422, 'invalid'));
    t.writer.record(invalid({ note: 'x' }));
    t.writer.record(invalid({ note: 'y' }));
    await flush();
    assert.equal((await t.results())['Warning/Invalid/failed'], 2);
    const warnings = t.lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1, 'one line per logIntervalMs');
    assert.equal(warnings[0]!.code, 'AMBIT_ERR_API');
    assert.equal(warnings[0]!.status, 403);
    t.timers.advance(30_000);
    t.fail.push(new ApiRequestError(403, 'forbidden'));
    t.writer.record(invalid({ note: 'z' }));
    await flush();
    assert.equal(t.lines.filter((l) => l.level === 40).at(-1)!.alsoSinceLastLine, 1);
  });

  it('a series whose Event is gone (expired) is created anew with its count', async () => {
    const t = setup();
    t.writer.record(invalid());
    await flush();
    t.fail.push(new ApiRequestError(404, 'not found'));
    t.writer.record(invalid());
    await flush();
    assert.deepEqual(t.calls.map((c) => c.op), ['create', 'patch', 'create']);
    assert.deepEqual((t.calls[2] as { body: EventBody }).body.series?.count, 2);
    assert.deepEqual(await t.results(), { 'Warning/Invalid/created': 1, 'Warning/Invalid/aggregated': 1 });
  });

  it('only the leader writes: a follower drops what it records, and losing the lead drops what waits', async () => {
    const t = setup({ leading: false });
    t.writer.record(invalid());
    await flush();
    assert.equal(t.calls.length, 0);
    assert.deepEqual(await t.results(), { 'Warning/Invalid/not_leader': 1 });
    t.lead.set(true);
    t.writer.record(invalid());
    await flush();
    t.writer.record(invalid());
    await flush();
    t.writer.record(invalid()); // waits for the series interval
    t.lead.set(false);
    t.timers.advance(60_000);
    await flush();
    assert.deepEqual(t.calls.map((c) => c.op), ['create', 'patch']);
    assert.equal((await t.results())['Warning/Invalid/not_leader'], 2);
    assert.equal(t.timers.pending, 0);
  });

  it('close() writes what waits, then records nothing more', async () => {
    const t = setup();
    t.writer.record(invalid());
    await flush();
    t.writer.record(invalid());
    await flush();
    t.writer.record(invalid()); // due in 10 s
    await t.writer.close();
    assert.deepEqual(t.calls.map((c) => (c.op === 'patch' ? c.series.count : 'create')), ['create', 2, 3]);
    t.writer.record(invalid({ note: 'late' }));
    await flush();
    assert.equal(t.calls.length, 3);
  });

  it('cuts the note to 1 KiB at a character boundary, and keeps names within 253 characters', async () => {
    const t = setup();
    t.writer.record(invalid({ note: 'é'.repeat(600), regarding: ap('n'.repeat(253)) }));
    await flush();
    const body = (t.calls[0] as { body: EventBody }).body;
    assert.equal(Buffer.byteLength(body.note), 1024);
    assert.equal(body.note, 'é'.repeat(512));
    assert.ok(body.metadata.name.length <= 253);
  });
});
