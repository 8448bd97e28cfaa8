import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSpiffeId, makeSpiffeId, parseSpiffeId } from './spiffe.js';

test('parses and formats a workload identity', () => {
  const r = parseSpiffeId('spiffe://cluster.local/ns/default/sa/web-1.v2');
  assert.ok(r.ok);
  assert.deepEqual({ ...r.value }, {
    trustDomain: 'cluster.local',
    namespace: 'default',
    serviceAccount: 'web-1.v2',
    uri: 'spiffe://cluster.local/ns/default/sa/web-1.v2',
  });
  assert.equal(formatSpiffeId(r.value), r.value.uri);
  const m = makeSpiffeId({ trustDomain: 'example_td.io', namespace: 'a', serviceAccount: 'b' });
  assert.ok(m.ok);
  assert.equal(m.value.uri, 'spiffe://example_td.io/ns/a/sa/b');
});

test('rejects anything that is not exactly spiffe://<td>/ns/<ns>/sa/<sa>', () => {
  const bad = [
    '',
    'spiffe://cluster.local',
    'spiffe://cluster.local/',
    'SPIFFE://cluster.local/ns/a/sa/b',
    'https://cluster.local/ns/a/sa/b',
    'spiffe://Cluster.local/ns/a/sa/b',
    'spiffe://cluster.local:8443/ns/a/sa/b',
    'spiffe://user@cluster.local/ns/a/sa/b',
    'spiffe://cluster..local/ns/a/sa/b',
    'spiffe:///ns/a/sa/b',
    'spiffe://cluster.local/ns/a/sa/b/',
    'spiffe://cluster.local/ns/a/sa/b/c',
    'spiffe://cluster.local/ns//sa/b',
    'spiffe://cluster.local/ns/A/sa/b',
    'spiffe://cluster.local/ns/a.b/sa/c',
    'spiffe://cluster.local/namespace/a/sa/b',
    'spiffe://cluster.local/ns/a/sa/b?x=1',
    'spiffe://cluster.local/ns/a/sa/b#frag',
    'spiffe://cluster.local/ns/a/sa/%62',
    'spiffe://cluster.local/ns/a/sa/..',
    'spiffe://cluster.local/ns/-a/sa/b',
    `spiffe://cluster.local/ns/${'a'.repeat(64)}/sa/b`,
    ' spiffe://cluster.local/ns/a/sa/b',
  ];
  for (const s of bad) {
    const r = parseSpiffeId(s);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(s)}`);
    if (!r.ok) assert.equal(r.error.code, 'AMBIT_ERR_IDENTITY');
  }
  assert.equal(parseSpiffeId(42 as unknown as string).ok, false);
});
