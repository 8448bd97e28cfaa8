import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, fnv1a32, hashSuffix, NAME_ALPHABET, randomString, safeEncode, stableUid, templateHash } from './names.js';

test('FNV-1a 32 reference values', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('safeEncode maps digits like Kubernetes', () => {
  // rand.SafeEncodeString("0123456789") in k8s.io/apimachinery.
  assert.equal(safeEncode('0123456789'), '456789bcdf');
});

test('template hash: 10 characters, key-order independent, changes with the template', () => {
  const a = templateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', command: ['x'] }] } });
  const b = templateHash({ spec: { containers: [{ command: ['x'], name: 'c' }] }, metadata: { labels: { app: 'web' } } });
  const c = templateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', command: ['y'] }] } });
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(canonicalJson({ b: 1, a: [undefined, { d: undefined, c: 2 }] }), '{"a":[null,{"c":2}],"b":1}');
});

test('random strings use the alphabet and tolerate bad random sources', () => {
  assert.equal(randomString(5, () => 0), 'bbbbb');
  assert.equal(randomString(5, () => 0.9999999), '99999');
  assert.equal(randomString(3, () => 1), '999');
  assert.equal(randomString(3, () => NaN), 'bbb');
  assert.equal(randomString(3, () => -5), 'bbb');
  for (const ch of randomString(200, Math.random)) assert.ok(NAME_ALPHABET.includes(ch));
});

test('stable UIDs and suffixes', () => {
  const uid = stableUid('Deployment', 'default', 'web');
  assert.match(uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uid, stableUid('Deployment', 'default', 'web'));
  assert.notEqual(uid, stableUid('Deployment', 'default', 'api'));
  assert.match(hashSuffix('x'), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(hashSuffix('x'), hashSuffix('x'));
});
