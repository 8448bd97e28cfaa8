import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOUR, TD, issue, testCa } from './fixtures.js';
import { WorkloadCertificate, generateWorkloadKey } from './workload.js';

const WEB = 'spiffe://cluster.local/ns/default/sa/web';
const ca = testCa(TD);

test('rotation: at 50% of the lifetime by default, or when a configured fraction remains', () => {
  const c = issue(ca, WEB, { ttlMs: 24 * HOUR });
  const life = c.notAfter - c.notBefore;
  assert.equal(c.rotateWhenRemaining, 0.5);
  assert.equal(c.rotateAt(), c.notBefore + life / 2);
  assert.equal(c.shouldRotate(c.notBefore + 0.49 * life), false);
  assert.equal(c.shouldRotate(c.notBefore + 0.51 * life), true);
  assert.equal(c.isExpired(c.notAfter), false);
  assert.equal(c.isExpired(c.notAfter + 1), true);

  const late = issue(ca, WEB, { ttlMs: 24 * HOUR, rotateWhenRemaining: 0.2 });
  const life2 = late.notAfter - late.notBefore;
  assert.equal(late.shouldRotate(late.notBefore + 0.79 * life2), false);
  assert.equal(late.shouldRotate(late.notBefore + 0.81 * life2), true);
  assert.throws(() => WorkloadCertificate.from({ ...late, rotateWhenRemaining: 1 }), { code: 'AMBIT_ERR_CONFIG' });
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
