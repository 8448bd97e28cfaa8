import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { DEFAULT_BACKDATE_MS, createRootCa, issueServingCertificate, loadCa, serializeCa, signWorkloadCsr } from './ca.js';
import { pemBlocks, toPem } from './pem.js';
import { HOUR, TD, testCa } from './fixtures.js';
import { createTrustBundle, verifyPeerChain } from './verify.js';
import { WorkloadCertificate, createCsr, generateWorkloadKey } from './workload.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const WEB = 'spiffe://cluster.local/ns/default/sa/web';
const ca = createRootCa({ trustDomain: TD, now: () => NOW - HOUR, validityDays: 365 });

const tamper = (pem: string, label: string, edit: (der: Buffer) => void): string => {
  const der = pemBlocks(pem, label)[0]!;
  edit(der);
  return toPem(der, label);
};

test('round trip: root CA -> key + CSR -> signed leaf -> verified identity', () => {
  const key = generateWorkloadKey();
  const csr = createCsr(key, WEB);
  assert.doesNotMatch(csr, /PRIVATE/);
  const signed = signWorkloadCsr(ca, csr, { spiffeId: WEB, now: () => NOW });
  assert.ok(signed.ok, signed.ok ? '' : signed.error.message);

  const x = new X509Certificate(signed.value);
  assert.equal(x.subjectAltName, `URI:${WEB}`);
  assert.equal(x.ca, false);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // EKU serverAuth, clientAuth
  assert.equal(Date.parse(x.validFrom), NOW - DEFAULT_BACKDATE_MS);
  assert.equal(Date.parse(x.validTo), NOW + 24 * HOUR);
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  assert.ok(spki(x.publicKey).equals(spki(createPublicKey(key.privateKey))), 'the leaf certifies the CSR key');

  const again = signWorkloadCsr(ca, csr, { spiffeId: WEB, now: () => NOW });
  assert.ok(again.ok);
  assert.notEqual(new X509Certificate(again.value).serialNumber, x.serialNumber, 'serials are random');

  const bundle = createTrustBundle(TD, ca.certPem);
  assert.ok(bundle.ok);
  const v = verifyPeerChain(signed.value, bundle.value, { now: () => NOW });
  assert.ok(v.ok);
  assert.equal(v.value.uri, WEB);

  const wc = WorkloadCertificate.from({ keyPem: key.keyPem, certChainPem: signed.value, rootPem: ca.certPem, issuedAt: NOW });
  assert.ok(wc.ok);
  assert.equal(wc.value.spiffeId.uri, WEB);
  assert.equal(wc.value.notAfter, NOW + 24 * HOUR);
});


test('CA survives serialize -> load and keeps signing for the same root', () => {
  const pem = serializeCa(ca);
  assert.match(pem.keyPem, /BEGIN PRIVATE KEY/);
  const loaded = loadCa(pem);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
  assert.equal(loaded.value.trustDomain, TD);
  assert.equal(loaded.value.certPem, ca.certPem);
  const signed = signWorkloadCsr(loaded.value, createCsr(generateWorkloadKey(), WEB), { spiffeId: WEB, now: () => NOW });
  assert.ok(signed.ok);
  const bundle = createTrustBundle(TD, ca.certPem);
  assert.ok(bundle.ok && verifyPeerChain(signed.value, bundle.value, { now: () => NOW }).ok);
});

test('loadCa refuses a mismatched key, a non-CA cert, garbage, and a trust-domain conflict', () => {
  const other = testCa();
  const r1 = loadCa({ certPem: ca.certPem, keyPem: other.toPem().keyPem });
  assert.ok(!r1.ok && r1.error.code === 'AMBIT_ERR_CA' && /does not match/.test(r1.error.message));
  const leaf = signWorkloadCsr(ca, createCsr(generateWorkloadKey(), WEB), { spiffeId: WEB, now: () => NOW });
  assert.ok(leaf.ok);
  const r2 = loadCa({ certPem: leaf.value, keyPem: ca.toPem().keyPem });
  assert.ok(!r2.ok && /not a CA/.test(r2.error.message));
  const r3 = loadCa({ certPem: 'not a pem', keyPem: 'nope' });
  assert.ok(!r3.ok && r3.error.code === 'AMBIT_ERR_CA');
  const r4 = loadCa(ca.toPem(), { trustDomain: 'other.local' });
  assert.ok(!r4.ok && /trust domain/.test(r4.error.message));
});

test('refuses a CSR whose SAN is not the authorized identity', () => {
  const csr = createCsr(generateWorkloadKey(), 'spiffe://cluster.local/ns/default/sa/admin');
  const r = signWorkloadCsr(ca, csr, { spiffeId: WEB, now: () => NOW });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'AMBIT_ERR_CSR_REFUSED');
  assert.match(r.error.message, /sa\/admin.*authorized only for spiffe:\/\/cluster.local\/ns\/default\/sa\/web/);
});

test('refuses garbage, a wrong PEM block, and a CSR with a tampered signature or body', () => {
  const csr = createCsr(generateWorkloadKey(), WEB);
  const cases: [string, string, RegExp][] = [
    ['garbage text', 'hello', /malformed CSR/],
    ['random bytes in a PEM', toPem(Buffer.from('\x30\x03\x02\x01', 'binary'), 'CERTIFICATE REQUEST'), /malformed CSR/],
    ['a certificate instead', ca.certPem, /malformed CSR/],
    ['two CSRs', csr + csr, /expected one CSR/],
    ['tampered signature', tamper(csr, 'CERTIFICATE REQUEST', (d) => { d[d.length - 1]! ^= 0x01; }), /self-signature/],
    ['tampered body', tamper(csr, 'CERTIFICATE REQUEST', (d) => { d[d.indexOf('sa/web') + 5] = 0x78; }), /self-signature/],
  ];
  for (const [what, input, re] of cases) {
    const r = signWorkloadCsr(ca, input, { spiffeId: what === 'tampered body' ? WEB.replace(/web$/, 'wex') : WEB, now: () => NOW });
    assert.ok(!r.ok, what);
    assert.equal(r.error.code, 'AMBIT_ERR_CSR_REFUSED', what);
    assert.match(r.error.message, re, what);
  }
});

test('refuses keys other than P-256 / RSA>=2048, and throws for caller bugs', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const r = signWorkloadCsr(ca, createCsr(privateKey, WEB), { spiffeId: WEB, now: () => NOW });
  assert.ok(!r.ok && /curve/.test(r.error.message));
  const csr = createCsr(generateWorkloadKey(), WEB);
  assert.throws(() => signWorkloadCsr(ca, csr, { spiffeId: 'spiffe://other.local/ns/default/sa/web' }), { code: 'AMBIT_ERR_IDENTITY' });
  assert.throws(() => signWorkloadCsr(ca, csr, { spiffeId: 'not-an-id' }), { code: 'AMBIT_ERR_IDENTITY' });
  assert.throws(() => signWorkloadCsr(ca, csr, { spiffeId: WEB, ttlMs: -1 }), { code: 'AMBIT_ERR_CONFIG' });
  assert.throws(() => createCsr(generateWorkloadKey(), 'spiffe://x/ns/A/sa/b'), { code: 'AMBIT_ERR_IDENTITY' });
});

test('leaf lifetime is clamped to the CA, and an expired CA signs nothing', () => {
  const csr = createCsr(generateWorkloadKey(), WEB);
  const late = ca.notAfter - HOUR;
  const r = signWorkloadCsr(ca, csr, { spiffeId: WEB, now: () => late });
  assert.ok(r.ok);
  assert.equal(Date.parse(new X509Certificate(r.value).validTo), ca.notAfter);
  const r2 = signWorkloadCsr(ca, csr, { spiffeId: WEB, now: () => ca.notAfter + 1 });
  assert.ok(!r2.ok && r2.error.code === 'AMBIT_ERR_CA');
});

test('a serving certificate carries the SPIFFE ID and the DNS names, for a key made here, and verifies by both', () => {
  const id = 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller';
  const dns = ['ambit-controller.ambit-system.svc', 'ambit-controller.ambit-system.svc.cluster.local'];
  const s = issueServingCertificate(ca, { spiffeId: id, dnsNames: dns, ttlMs: HOUR, now: () => NOW });
  const x = new X509Certificate(s.certChainPem);
  assert.equal(x.subjectAltName, `URI:${id}, DNS:${dns[0]}, DNS:${dns[1]}`);
  assert.equal(x.checkHost(dns[0]!), dns[0]);
  assert.equal(x.checkHost('ambit-controller.other.svc'), undefined);
  assert.equal(Date.parse(x.validTo), s.notAfter);
  assert.equal(s.notAfter, NOW + HOUR);
  assert.ok(x.checkPrivateKey(createPrivateKey(s.keyPem)));
  const trust = createTrustBundle(TD, ca.certPem);
  assert.ok(trust.ok);
  const v = verifyPeerChain(s.certChainPem, trust.value, { now: () => NOW });
  assert.equal(v.ok && v.value.uri, id);
  assert.throws(() => issueServingCertificate(ca, { spiffeId: id, dnsNames: ['Not A Name'], ttlMs: HOUR }), { code: 'AMBIT_ERR_CONFIG' });
  assert.throws(() => issueServingCertificate(ca, { spiffeId: 'spiffe://other/ns/a/sa/b', dnsNames: [], ttlMs: HOUR }), { code: 'AMBIT_ERR_IDENTITY' });
});
