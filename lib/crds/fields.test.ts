import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closestName, describeValue } from './describe.js';
import { parseDuration } from './duration.js';
import { childPath, formatPath, itemPath, parsePath } from './field-path.js';
import { Fields, field, guarded } from './fields.js';
import { ipOrCidrProblem, intToIpv4, ipv4ToInt } from './net.js';

describe('field paths', () => {
  test('format like kubectl and parse back', () => {
    const segs = ['spec', 'rules', 0, 'from', 1, 'source', 'ipBlocks', 2];
    assert.equal(formatPath(segs), 'spec.rules[0].from[1].source.ipBlocks[2]');
    assert.deepEqual(parsePath(formatPath(segs)), segs);
  });

  test('quote keys that are not identifiers', () => {
    const p = childPath('metadata.labels', 'app.kubernetes.io/name');
    assert.equal(p, 'metadata.labels["app.kubernetes.io/name"]');
    assert.deepEqual(parsePath(p), ['metadata', 'labels', 'app.kubernetes.io/name']);
    const odd = childPath('x', 'a"]b');
    assert.deepEqual(parsePath(odd), ['x', 'a"]b']);
  });

  test('root paths and items', () => {
    assert.equal(childPath('', 'spec'), 'spec');
    assert.equal(itemPath('items', 3), 'items[3]');
    assert.deepEqual(parsePath(''), []);
    assert.deepEqual(parsePath('items[2].spec'), ['items', 2, 'spec']);
  });

  test('malformed paths do not throw', () => {
    for (const p of ['[', '["', 'a[x]', '[1', '..', '["unterminated']) assert.ok(Array.isArray(parsePath(p)));
  });
});

describe('durations', () => {
  test('Gateway API grammar', () => {
    assert.equal(parseDuration('1s'), 1000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0s'), 0);
  });

  test('rejects other spellings', () => {
    for (const s of ['1', '1.5s', '1 s', '-1s', 's', '', '100000s', '1s1s1s1s1s', '1d']) assert.equal(parseDuration(s), undefined, s);
  });
});

describe('addresses', () => {
  test('IPs and CIDRs', () => {
    assert.equal(ipOrCidrProblem('10.0.0.0/8'), undefined);
    assert.equal(ipOrCidrProblem('10.1.2.3'), undefined);
    assert.equal(ipOrCidrProblem('fd00::/8'), undefined);
    assert.match(ipOrCidrProblem('10.0.0.0/33')!, /prefix length must be 0\.\.32/);
    assert.match(ipOrCidrProblem('10.0.0/8')!, /IP address or CIDR/);
    assert.match(ipOrCidrProblem('10.0.0.0/')!, /prefix length/);
    assert.match(ipOrCidrProblem('fd00::/129')!, /0\.\.128/);
  });

  test('IPv4 integer round trip', () => {
    assert.equal(ipv4ToInt('10.96.0.10'), 0x0a60000a);
    assert.equal(intToIpv4(0x0a60000a), '10.96.0.10');
    assert.equal(intToIpv4(0xffffffff), '255.255.255.255');
    assert.equal(ipv4ToInt('300.1.1.1'), undefined);
  });
});

describe('Fields', () => {
  test('type errors say what was found and hint at quoting', () => {
    const f = new Fields();
    f.string(8080, 'a');
    f.int('80', 'b');
    f.stringList(['x', 1], 'c');
    f.record([], 'd');
    assert.deepEqual(f.errors, [
      { path: 'a', message: 'must be a string (got 8080; quote it if it is meant as text: "8080")' },
      { path: 'b', message: 'must be an integer (got "80"; remove the quotes)' },
      { path: 'c', message: 'must be a list of strings (item 1 is 1; quote it if it is meant as text: "1")' },
      { path: 'd', message: 'must be a mapping of fields (got a list)' },
    ]);
  });

  test('required and optional', () => {
    const f = new Fields();
    assert.equal(f.string(undefined, 'x'), undefined);
    assert.equal(f.string(null, 'y'), undefined);
    assert.equal(f.errors.length, 0);
    f.string(undefined, 'z', { required: true });
    f.string('', 'w', { required: true });
    assert.deepEqual(f.errors.map((e) => `${e.path}: ${e.message}`), ['z: required', 'w: must not be empty']);
  });

  test('enums suggest the near miss', () => {
    const f = new Fields();
    assert.equal(f.oneOf('STRICT', 'm', ['STRICT', 'PERMISSIVE']), 'STRICT');
    f.oneOf('strict', 'm', ['STRICT', 'PERMISSIVE']);
    f.oneOf(3, 'n', ['A', 'B']);
    assert.equal(f.errors[0]!.message, 'must be one of STRICT, PERMISSIVE (got "strict"; did you mean "STRICT"?)');
    assert.equal(f.errors[1]!.message, 'must be one of A, B (got 3)');
  });

  test('ranges, ports, durations', () => {
    const f = new Fields();
    assert.equal(f.port(65535, 'p'), 65535);
    f.port(0, 'p0');
    f.port(65536, 'p1');
    f.port(1.5, 'p2');
    f.duration('5 seconds', 'd');
    f.duration('0s', 'd0', { positive: true });
    assert.equal(f.duration('2s', 'd1'), 2000);
    assert.deepEqual(
      f.errors.map((e) => e.path),
      ['p0', 'p1', 'p2', 'd', 'd0'],
    );
    assert.match(f.errors[0]!.message, /between 1 and 65535 \(got 0\)/);
    assert.match(f.errors[3]!.message, /duration like "1s", "250ms"/);
  });

  test('unknown fields are named, with a suggestion or the known list', () => {
    const f = new Fields();
    f.onlyKnown({ principal: [], zzz: 1, ok: 1 }, 'src', ['principals', 'ok'], {});
    assert.deepEqual(f.errors, [
      { path: 'src.principal', message: 'unknown field; did you mean "principals"?' },
      { path: 'src.zzz', message: 'unknown field (known fields: principals, ok)' },
    ]);
  });

  test('field() ignores inherited properties', () => {
    assert.equal(field({}, 'constructor'), undefined);
    assert.equal(field({}, '__proto__'), undefined);
    assert.equal(field({ a: 1 }, 'a'), 1);
  });

  test('guarded turns a crash into an error', () => {
    const errors = guarded('spec', () => {
      throw new Error('boom');
    });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /internal validation error \(boom\)/);
  });
});

describe('describe', () => {
  test('values', () => {
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue([1]), 'a list');
    assert.equal(describeValue({}), 'a mapping');
    assert.equal(describeValue('x'.repeat(100)).length < 70, true);
  });

  test('closest names', () => {
    assert.equal(closestName('principal', ['principals', 'namespaces']), 'principals');
    assert.equal(closestName('ALLOWED', ['ALLOW', 'DENY']), 'ALLOW');
    assert.equal(closestName('xyz', ['principals']), undefined);
  });
});
