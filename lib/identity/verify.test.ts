import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { pemBlocks, toPem } from './pem.js';
import { TD, issue, testCa } from './fixtures.js';
import { createTrustBundle, leafIdentity, sanUris, verifyPeerChain, type TrustBundle } from './verify.js';

const ca = testCa();
const WEB = 'spiffe://cluster.local/ns/default/sa/web';
const T0 = Date.now();
const wc = issue(ca, WEB, { now: T0 });
const bundleOf = (td: string, pem: string | string[]): TrustBundle => {
  const b = createTrustBundle(td, pem);
  if (!b.ok) throw b.error;
  return b.value;
};
const trust = bundleOf(TD, ca.certPem);
const at = (ms: number) => ({ now: () => ms });

test('accepts PEM, DER, X509Certificate and leaf+root chains', () => {
  const der = pemBlocks(wc.certChainPem, 'CERTIFICATE')[0]!;
  for (const input of [wc.certChainPem, der, new X509Certificate(der), [wc.certChainPem, ca.certPem], wc.certChainPem + ca.certPem]) {
    const r = verifyPeerChain(input, trust, at(T0));
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.value.uri, WEB);
  }
});

test('validity window uses the injected clock', () => {
  const expired = verifyPeerChain(wc.certChainPem, trust, at(wc.notAfter + 1000));
  assert.ok(!expired.ok);
  assert.equal(expired.error.reason, 'expired');
  const early = verifyPeerChain(wc.certChainPem, trust, at(wc.notBefore - 1000));
  assert.ok(!early.ok);
  assert.equal(early.error.reason, 'not-yet-valid');
  assert.ok(verifyPeerChain(wc.certChainPem, trust, at(wc.notAfter - 1000)).ok);
  const rootExpired = verifyPeerChain(wc.certChainPem, trust, at(ca.notAfter + 1000));
  assert.ok(!rootExpired.ok && rootExpired.error.reason === 'expired');
});

test('a certificate from another CA is wrong-ca, even if it names the same trust domain', () => {
  const other = issue(testCa(), WEB);
  const r = verifyPeerChain(other.certChainPem, trust, at(T0));
  assert.ok(!r.ok);
  assert.equal(r.error.reason, 'wrong-ca');
  // with its own root appended, it is still not ours
  const r2 = verifyPeerChain([other.certChainPem, other.rootPem], trust, at(T0));
  assert.ok(!r2.ok && r2.error.reason === 'wrong-ca');
  // a bundle holding both roots (CA rotation) accepts both
  assert.ok(verifyPeerChain(other.certChainPem, bundleOf(TD, [ca.certPem, other.rootPem]), at(T0)).ok);
});

test('a tampered signature is refused', () => {
  const der = Buffer.from(pemBlocks(wc.certChainPem, 'CERTIFICATE')[0]!);
  der[der.length - 1]! ^= 0x01;
  const r = verifyPeerChain(toPem(der, 'CERTIFICATE'), trust, at(T0));
  assert.ok(!r.ok);
  assert.equal(r.error.reason, 'wrong-ca');
  assert.match(r.error.message, /signature does not verify/);
  // a tampered body (the SAN) is refused the same way
  const body = Buffer.from(pemBlocks(wc.certChainPem, 'CERTIFICATE')[0]!);
  body[body.indexOf('sa/web') + 5] = 0x78;
  const r2 = verifyPeerChain(body, trust, at(T0));
  assert.ok(!r2.ok && r2.error.reason === 'wrong-ca');
});

test('garbage, empty chains and a CA presented as a leaf are malformed', () => {
  for (const input of ['garbage', toPem(Buffer.from('nonsense'), 'CERTIFICATE'), Buffer.from([0x30, 0x00]), [] as string[]]) {
    const r = verifyPeerChain(input, trust, at(T0));
    assert.ok(!r.ok);
    assert.equal(r.error.reason, 'malformed');
  }
  const r = verifyPeerChain(ca.certPem, trust, at(T0));
  assert.ok(!r.ok && r.error.reason === 'malformed' && /CA certificate/.test(r.error.message));
});

test('an identity from another trust domain is bad-san; an unexpected one is unexpected-identity', () => {
  const foreignCa = testCa('other.local');
  const foreign = issue(foreignCa, 'spiffe://other.local/ns/default/sa/web');
  const r = verifyPeerChain(foreign.certChainPem, bundleOf(TD, foreignCa.certPem), at(T0));
  assert.ok(!r.ok);
  assert.equal(r.error.reason, 'bad-san');
  const u = verifyPeerChain(wc.certChainPem, trust, { ...at(T0), expected: 'spiffe://cluster.local/ns/default/sa/db' });
  assert.ok(!u.ok && u.error.reason === 'unexpected-identity');
  assert.ok(verifyPeerChain(wc.certChainPem, trust, { ...at(T0), expected: ['spiffe://cluster.local/ns/default/sa/db', WEB] }).ok);
  assert.equal(leafIdentity(wc.certChainPem, 'other.local').ok, false);
});

test('createTrustBundle refuses garbage and non-CA certificates', () => {
  const g = createTrustBundle(TD, 'garbage');
  assert.ok(!g.ok && g.error.code === 'AMBIT_ERR_CA');
  const leaf = createTrustBundle(TD, wc.certChainPem);
  assert.ok(!leaf.ok && /not a CA/.test(leaf.error.message));
  assert.equal(createTrustBundle('Bad TD', ca.certPem).ok, false);
});

test('SANs are read the way Node reports them: URI entries among others, also quoted ones', () => {
  assert.deepEqual(sanUris('URI:spiffe://cluster.local/ns/a/sa/b'), ['spiffe://cluster.local/ns/a/sa/b']);
  assert.deepEqual(sanUris('DNS:ambit-controller.ambit-system.svc, URI:spiffe://td/ns/x/sa/y, IP Address:10.0.0.1'), ['spiffe://td/ns/x/sa/y']);
  assert.deepEqual(sanUris('URI:"spiffe://td/ns/a,b/sa/c", URI:spiffe://td/ns/d/sa/e'), ['spiffe://td/ns/a,b/sa/c', 'spiffe://td/ns/d/sa/e']);
  assert.deepEqual(sanUris(undefined), []);
  assert.deepEqual(sanUris(''), []);
});

test('leafIdentity answers the same from DER, from an X509Certificate and from a PeerCertificate', () => {
  const pem = issue(ca, 'spiffe://cluster.local/ns/shop/sa/web').certChainPem;
  const x = new X509Certificate(pem);
  const fromDer = leafIdentity(x.raw, TD);
  assert.ok(fromDer.ok);
  assert.deepEqual(leafIdentity(x, TD), fromDer);
  assert.deepEqual(leafIdentity({ raw: x.raw, subjectaltname: x.subjectAltName, ca: false } as never, TD), fromDer);
  const root = leafIdentity(new X509Certificate(ca.certPem), TD);
  assert.equal(root.ok ? undefined : root.error.reason, 'malformed', 'a CA certificate is no workload');
});
