import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOUR, TD, issue, testCa } from './fixtures.js';
import { WorkloadCertificate, generateWorkloadKey, renewalTime } from './workload.js';

const WEB = 'spiffe://cluster.local/ns/default/sa/web';
const ca = testCa(TD);
const MIN = 60_000;

test('renewal: half the lifetime counted from issue, moved earlier by the drawn jitter only', () => {
  const t0 = Date.parse('2030-01-01T00:00:00Z');
  assert.equal(renewalTime(t0, t0 + 24 * HOUR, { jitter: 0.1, random: () => 0 }), t0 + 12 * HOUR);
  assert.equal(renewalTime(t0, t0 + 24 * HOUR, { jitter: 0.1, random: () => 0.5 }), t0 + 12 * HOUR - 1.2 * HOUR);
  assert.equal(renewalTime(t0, t0 + 10 * MIN, { rotateWhenRemaining: 0.2, jitter: 0, random: () => 0.9 }), t0 + 8 * MIN);
  // Received after its end (a stalled agent): due at once, never in the past of issue.
  assert.equal(renewalTime(t0 + HOUR, t0, { random: () => 0.99 }), t0);
  assert.throws(() => renewalTime(t0, t0 + HOUR, { rotateWhenRemaining: 1 }), { code: 'AMBIT_ERR_CONFIG' });
  assert.throws(() => renewalTime(t0, t0 + HOUR, { rotateWhenRemaining: 0.5, jitter: 0.5 }), { code: 'AMBIT_ERR_CONFIG' });
});

test('a 60 s certificate is not due when it arrives: the backdated notBefore does not count', () => {
  const now = Date.now();
  const c = issue(ca, WEB, { now, ttlMs: MIN, renewal: { jitter: 0.1, random: () => 1 - Number.EPSILON } });
  assert.ok(c.notBefore <= now - 4 * MIN, 'notBefore is backdated by minutes');
  assert.equal(c.issuedAt, now);
  // Between 24 s (full jitter) and 30 s after issue: never "due" at issue, as a notBefore schedule would be.
  assert.equal(c.shouldRotate(now), false);
  assert.equal(c.shouldRotate(now + 23 * 1000), false);
  assert.ok(c.rotateAt >= now + 24_000 - 1000 && c.rotateAt <= now + 30_000, `rotateAt ${c.rotateAt - now} ms after issue`);
  assert.equal(c.shouldRotate(now + 30 * 1000), true);
  assert.equal(c.isExpired(c.notAfter), false);
  assert.equal(c.isExpired(c.notAfter + 1), true);
});

test('withRoots keeps the schedule, accepts a bundle that still holds the issuer and refuses one that does not', () => {
  const c = issue(ca, WEB, { ttlMs: 24 * HOUR });
  const other = testCa();
  const both = c.withRoots(ca.certPem + other.certPem);
  assert.ok(both.ok);
  assert.deepEqual([both.value.rotateAt, both.value.issuedAt, both.value.certChainPem], [c.rotateAt, c.issuedAt, c.certChainPem]);
  assert.equal(both.value.rootPem, ca.certPem + other.certPem);
  const onlyOther = c.withRoots(other.certPem);
  assert.ok(!onlyOther.ok && onlyOther.error.code === 'AMBIT_ERR_CERT_INVALID' && /wrong-ca/.test(onlyOther.error.message));
});

test('holder refuses a key that does not match, a chain from another root, and garbage', () => {
  const c = issue(ca, WEB);
  const wrongKey = WorkloadCertificate.from({ ...c, keyPem: generateWorkloadKey().keyPem });
  assert.ok(!wrongKey.ok && /does not match/.test(wrongKey.error.message));
  const otherRoot = WorkloadCertificate.from({ ...c, rootPem: testCa().certPem });
  assert.ok(!otherRoot.ok && otherRoot.error.code === 'AMBIT_ERR_CERT_INVALID' && /wrong-ca/.test(otherRoot.error.message));
  const garbage = WorkloadCertificate.from({ ...c, certChainPem: 'garbage' });
  assert.ok(!garbage.ok && garbage.error.code === 'AMBIT_ERR_CERT_INVALID');
  // an already-expired certificate still loads (so the agent can see it must rotate)
  const old = issue(ca, WEB, { now: Date.now() - 3 * 24 * HOUR, ttlMs: HOUR });
  assert.ok(old.isExpired(Date.now()) && old.shouldRotate(Date.now()));
});
