/**
 * The agent side: a key per workload identity, its CSR, and the issued certificate with
 * its rotation schedule. The private key is generated here and never serialized into the
 * CSR; only the agent process holds it (Istio/ztunnel keep keys on the node the same way).
 *
 * Key algorithm: ECDSA P-256, chosen by measurement (lib/identity/bench-key-algorithm.ts;
 * Node 20.20, OpenSSL 3.0.19, 2 shared vCPUs, loopback, full mutual TLS 1.3 handshakes):
 *   key generation       P-256 0.05-0.06 ms/key         RSA-2048 150-220 ms/key (~3000x slower)
 *   handshake CPU/side   P-256 1.9-2.3 ms (conc 4)      RSA-2048 2.15-2.45 ms (conc 1: 2.2-2.45 vs 2.9-3.0)
 *   handshakes/s         P-256 250-400 (noisy host)     RSA-2048 185-350
 * The handshake is dominated by Node + OpenSSL 3.0 per-connection overhead (~1.7 ms/side,
 * mostly decoder/provider lookups), not by the signature: per side one sign + two verifies
 * cost ~0.2 ms with P-256 and ~0.4 ms with RSA (openssl speed). Key generation decides it:
 * an agent mints a key per identity and per rotation. Istio's default is also P-256.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { AmbitError, fail, ok, type Result } from '../errors.js';
import { buildCsr, generateKeyObject, parseCertificate, spkiOf, type KeyAlgorithm } from './der.js';
import { pemBlocks, toPem } from './pem.js';

export type { KeyAlgorithm };
import { parseSpiffeId, type SpiffeId } from './spiffe.js';
import { createTrustBundle, verifyFailureError, verifyPeerChain, type WorkloadTlsMaterial } from './verify.js';

/** A workload's private key. `keyPem` exists for `tls` options inside this process only. */
export interface WorkloadKey {
  readonly privateKey: KeyObject;
  readonly keyPem: string;
}

/** A fresh key: ECDSA P-256 by default (about 60 µs; RSA-2048 takes about 180 ms). */
export function generateWorkloadKey(alg: KeyAlgorithm = 'ec-p256'): WorkloadKey {
  const privateKey = generateKeyObject(alg);
  return Object.freeze({ privateKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
}

/** A PKCS#10 CSR (PEM) for `spiffeId`, signed by `key`; it carries only the public key. Throws on an invalid id. */
export function createCsr(key: WorkloadKey | KeyObject, spiffeId: SpiffeId | string): string {
  const id = parseSpiffeId(typeof spiffeId === 'string' ? spiffeId : spiffeId.uri);
  if (!id.ok) throw id.error;
  const k = 'privateKey' in key ? key.privateKey : key;
  return toPem(buildCsr(k, id.value.uri), 'CERTIFICATE REQUEST');
}

/**
 * When to rotate: once less than this fraction of the lifetime remains. 0.5 is Istio's
 * default (SECRET_GRACE_PERIOD_RATIO): a 24 h certificate is renewed after 12 h, leaving
 * 12 h to retry if the CA is unreachable.
 */
export const DEFAULT_ROTATE_WHEN_REMAINING = 0.5;
/** Renewal is moved earlier by up to this fraction of the lifetime, drawn per certificate. */
export const DEFAULT_ROTATE_JITTER = 0.1;

/** When a holder renews a certificate. */
export interface RenewalPolicy {
  /** Renew once less than this fraction of the lifetime (counted from issue) remains; in (0, 1). */
  rotateWhenRemaining?: number;
  /**
   * Renew up to this fraction of the lifetime earlier, at random, so that certificates
   * fetched together (an agent restart) do not all renew together; in [0, 1 - rotateWhenRemaining).
   */
  jitter?: number;
  /** [0, 1) source for the jitter (tests pin it). */
  random?: () => number;
}

/**
 * The time to renew a certificate valid until `notAfter` that its holder received at
 * `issuedAt`. The lifetime counts from issue, never from notBefore: the CA backdates
 * notBefore for clock skew (5 minutes), and with a 1-minute certificate a schedule counted
 * from notBefore would be due the moment the certificate arrived.
 */
export function renewalTime(issuedAt: number, notAfter: number, policy: RenewalPolicy = {}): number {
  const remaining = policy.rotateWhenRemaining ?? DEFAULT_ROTATE_WHEN_REMAINING;
  const jitter = policy.jitter ?? DEFAULT_ROTATE_JITTER;
  if (!(remaining > 0 && remaining < 1)) throw new AmbitError('AMBIT_ERR_CONFIG', `rotateWhenRemaining must be in (0, 1), got ${remaining}`);
  if (!(jitter >= 0 && jitter < 1 - remaining)) throw new AmbitError('AMBIT_ERR_CONFIG', `rotation jitter must be in [0, ${1 - remaining}), got ${jitter}`);
  const from = Math.min(issuedAt, notAfter);
  const life = notAfter - from;
  return from + life * (1 - remaining - jitter * (policy.random ?? Math.random)());
}

interface Fields {
  keyPem: string;
  certChainPem: string;
  rootPem: string;
  spiffeId: SpiffeId;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  rotateAt: number;
}

/** A workload's key, its certificate chain (leaf first), the roots it trusts, and when to renew it. */
export class WorkloadCertificate implements WorkloadTlsMaterial {
  readonly keyPem: string;
  readonly certChainPem: string;
  /** The trust bundle (one or more roots) peers are verified against. */
  readonly rootPem: string;
  readonly spiffeId: SpiffeId;
  /** Epoch ms of the leaf's validity window. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** When the holder received it (the start of its renewal schedule). */
  readonly issuedAt: number;
  /** From when `shouldRotate` is true (see `renewalTime`). */
  readonly rotateAt: number;

  private constructor(f: Fields) {
    this.keyPem = f.keyPem;
    this.certChainPem = f.certChainPem;
    this.rootPem = f.rootPem;
    this.spiffeId = f.spiffeId;
    this.notBefore = f.notBefore;
    this.notAfter = f.notAfter;
    this.issuedAt = f.issuedAt;
    this.rotateAt = f.rotateAt;
    Object.freeze(this);
  }

  /**
   * Checks and assembles the material: the chain verifies against `rootPem` (signatures
   * only; an expired or future certificate is still accepted here, see `isExpired`), the
   * leaf has one SPIFFE ID, and the key matches the leaf. `issuedAt` is when the holder
   * received it; the renewal time is drawn once, here.
   */
  static from(m: WorkloadTlsMaterial & { issuedAt: number; renewal?: RenewalPolicy }): Result<WorkloadCertificate> {
    const invalid = (why: string): Result<never> => fail(new AmbitError('AMBIT_ERR_CERT_INVALID', `workload certificate: ${why}`));
    let leaf: X509Certificate;
    let key: KeyObject;
    try {
      leaf = new X509Certificate(pemBlocks(m.certChainPem, 'CERTIFICATE')[0]!);
      parseCertificate(leaf.raw);
    } catch (e) {
      return invalid(`certificate chain PEM is malformed (${(e as Error).message})`);
    }
    try {
      key = createPrivateKey(m.keyPem);
    } catch (e) {
      return invalid(`private key PEM is malformed (${(e as Error).message})`);
    }
    const leafSpki = leaf.publicKey.export({ type: 'spki', format: 'der' });
    if (!spkiOf(key).equals(leafSpki)) return invalid('the private key does not match the certificate');
    const notAfter = Date.parse(leaf.validTo);
    const rotateAt = renewalTime(m.issuedAt, notAfter, m.renewal);
    const verified = verifyAgainst(m.certChainPem, leaf, m.rootPem);
    if (!verified.ok) return verified;
    return ok(
      new WorkloadCertificate({
        keyPem: m.keyPem,
        certChainPem: m.certChainPem,
        rootPem: m.rootPem,
        spiffeId: verified.value,
        notBefore: Date.parse(leaf.validFrom),
        notAfter,
        issuedAt: m.issuedAt,
        rotateAt,
      }),
    );
  }

  /**
   * The same certificate and schedule trusting another bundle (the roots changed), or why
   * its chain does not verify against that bundle.
   */
  withRoots(rootPem: string): Result<WorkloadCertificate> {
    const leaf = new X509Certificate(pemBlocks(this.certChainPem, 'CERTIFICATE')[0]!);
    const verified = verifyAgainst(this.certChainPem, leaf, rootPem);
    if (!verified.ok) return verified;
    return ok(new WorkloadCertificate({ ...this, rootPem }));
  }

  /** True once the renewal time has come (or it has expired). */
  shouldRotate(now: number): boolean {
    return now >= this.rotateAt;
  }

  isExpired(now: number): boolean {
    return now > this.notAfter;
  }
}

/** The leaf's SPIFFE ID if `chainPem` verifies against `rootPem` (signatures only). */
function verifyAgainst(chainPem: string, leaf: X509Certificate, rootPem: string): Result<SpiffeId> {
  // The trust domain is the leaf's own: read it first, then verify against the roots.
  const uris = parseCertificate(leaf.raw).san.uris;
  const td = uris.length === 1 ? parseSpiffeId(uris[0]!) : undefined;
  if (!td?.ok) return fail(new AmbitError('AMBIT_ERR_CERT_INVALID', 'workload certificate: the leaf does not carry exactly one SPIFFE workload identity'));
  const bundle = createTrustBundle(td.value.trustDomain, rootPem);
  if (!bundle.ok) return bundle;
  const v = verifyPeerChain(chainPem, bundle.value, { ignoreTime: true });
  return v.ok ? v : fail(verifyFailureError(v.error));
}
