import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, tracestateOf } from './tracing-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const valid = `00-${TRACE}-${PARENT}-01`;

describe('parseTraceparent', () => {
  it('reads version 00: trace id, parent id and the sampled bit (masked, not the whole byte)', () => {
    assert.deepEqual(parseTraceparent(valid), { traceId: TRACE, parentId: PARENT, sampled: true });
    assert.equal(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.sampled, false);
    assert.equal(parseTraceparent(`00-${TRACE}-${PARENT}-09`)?.sampled, true);
    assert.equal(parseTraceparent(`00-${TRACE}-${PARENT}-02`)?.sampled, false);
  });

  it('restarts (undefined) when the header is absent or sent twice', () => {
    assert.equal(parseTraceparent(undefined), undefined);
    assert.equal(parseTraceparent(''), undefined);
    assert.equal(parseTraceparent([valid, valid]), undefined);
    assert.equal(parseTraceparent(`${valid}, ${valid}`), undefined, 'Node joins a repeated field with ", "');
    assert.deepEqual(parseTraceparent([valid]), parseTraceparent(valid));
  });

  it('ignores optional whitespace around the value', () => {
    assert.equal(parseTraceparent(` \t${valid}\t `)?.traceId, TRACE);
  });

  const invalid: Array<[string, string]> = [
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['uppercase version', `0A-${TRACE}-${PARENT}-01`],
    ['non-hex version', `0g-${TRACE}-${PARENT}-01`],
    ['uppercase trace id', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['uppercase parent id', `00-${TRACE}-${PARENT.toUpperCase()}-01`],
    ['uppercase flags', `00-${TRACE}-${PARENT}-0A`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['long trace id', `00-${TRACE}0-${PARENT}-01`],
    ['short parent id', `00-${TRACE}-${PARENT.slice(1)}-01`],
    ['one flag digit', `00-${TRACE}-${PARENT}-1`],
    ['version 00 with more after the flags', `00-${TRACE}-${PARENT}-01-extra`],
    ['version 00 one character too long', `${valid}0`],
    ['non-hex in the trace id', `00-${TRACE.slice(0, 31)}x-${PARENT}-01`],
    ['wrong separator', `00_${TRACE}-${PARENT}-01`],
    ['one-digit version', `0-${TRACE}-${PARENT}-01`],
    ['higher version, too short', `01-${TRACE}-${PARENT}-1`],
    ['higher version, flags not followed by a dash', `01-${TRACE}-${PARENT}-01x`],
    ['higher version, bad trace id', `01-${'0'.repeat(32)}-${PARENT}-01-abc`],
  ];
  for (const [what, header] of invalid) {
    it(`restarts on ${what}`, () => assert.equal(parseTraceparent(header), undefined));
  }

  it('reads a higher version by the version-00 positions and ignores the fields it adds', () => {
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${PARENT}-01`), { traceId: TRACE, parentId: PARENT, sampled: true });
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${PARENT}-00-what-the-future-adds`), { traceId: TRACE, parentId: PARENT, sampled: false });
  });
});

describe('tracestateOf', () => {
  it('passes the value unchanged, combining several fields with commas', () => {
    assert.equal(tracestateOf('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.equal(tracestateOf(['rojo=1', 'congo=2']), 'rojo=1,congo=2');
    assert.equal(tracestateOf('a=1 , b=2'), 'a=1 , b=2');
  });

  it('drops an absent or empty one', () => {
    assert.equal(tracestateOf(undefined), undefined);
    assert.equal(tracestateOf(''), undefined);
    assert.equal(tracestateOf(' , \t,'), undefined);
  });
});

describe('ids and formatting', () => {
  it('makes lowercase-hex ids of the right length that parse back', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      assert.match(t, /^[0-9a-f]{32}$/);
      assert.match(s, /^[0-9a-f]{16}$/);
      seen.add(t);
      assert.deepEqual(parseTraceparent(formatTraceparent(t, s, i % 2 === 0)), { traceId: t, parentId: s, sampled: i % 2 === 0 });
    }
    assert.equal(seen.size, 2000, 'ids do not repeat across pool refills');
  });

  it('writes version 00 with only the sampled flag', () => {
    assert.equal(formatTraceparent(TRACE, PARENT, true), valid);
    assert.equal(formatTraceparent(TRACE, PARENT, false), `00-${TRACE}-${PARENT}-00`);
  });
});
