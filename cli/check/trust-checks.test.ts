import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRootCa, issueServingCertificate } from '../../lib/identity/index.js';
import { judgeBundle, ROOT_EXPIRY_WARN_DAYS } from './trust-checks.js';

const DAY = 24 * 3600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('ambit check: the trust root', () => {
  const root = createRootCa({ trustDomain: 'cluster.local', now: () => T0, validityDays: 365 });

  it('passes a valid root and says when it expires', () => {
    const r = judgeBundle(root.certPem, T0 + DAY);
    assert.equal(r.status, 'pass');
    assert.match(r.message, /1 root valid; the first expires 2031-01-01 \(in 364 days\)/);
  });

  it(`warns under ${ROOT_EXPIRY_WARN_DAYS} days, fails once expired`, () => {
    const soon = judgeBundle(root.certPem, T0 + 340 * DAY);
    assert.equal(soon.status, 'warn');
    assert.match(soon.hint!, /rotate/i);
    const expired = judgeBundle(root.certPem, T0 + 366 * DAY);
    assert.equal(expired.status, 'fail');
    assert.match(expired.message, /expired on/);
  });

  it('judges every root of a bundle in rotation by the one expiring first', () => {
    const next = createRootCa({ trustDomain: 'cluster.local', now: () => T0, validityDays: 3650 });
    const r = judgeBundle(`${next.certPem}\n${root.certPem}`, T0 + 340 * DAY);
    assert.equal(r.status, 'warn');
    assert.match(r.message, /^2 roots/);
  });

  it('fails a certificate that is not a CA, and a bundle with no certificate', () => {
    const leaf = issueServingCertificate(root, { spiffeId: 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller', dnsNames: ['ambit-controller.ambit-system.svc'], ttlMs: DAY, now: () => T0 });
    const r = judgeBundle(leaf.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0], T0 + 1000);
    assert.equal(r.status, 'fail');
    assert.match(r.message, /not a CA certificate/);
    assert.equal(judgeBundle('garbage', T0).status, 'fail');
    assert.equal(judgeBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', T0).status, 'fail');
  });
});
