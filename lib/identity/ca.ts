/**
 * The mesh CA, run by the controller: a self-signed ECDSA P-256 root that signs workload
 * CSRs from node agents (Istio's istiod CA role). It only serializes to and from PEM;
 * where the PEM lives (a file in the lab, a Secret in a cluster) is the caller's business.
 *
 * Issued leaves follow the X.509-SVID profile: empty subject, one critical URI SAN that
 * is exactly the authorized SPIFFE ID, CA:false, keyUsage digitalSignature, EKU
 * serverAuth+clientAuth, a 127-bit random serial, notBefore backdated for clock skew.
 * The controller's own serving certificate (`issueServingCertificate`) adds DNS SANs:
 * clients reach it by its Service name, and a workload certificate can never carry one
 * (`signWorkloadCsr` refuses any SAN but the SPIFFE ID), so no agent can pose as the
 * controller with a certificate obtained through a CSR.
 */
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { AmbitError, fail, ok, type Result } from '../errors.js';
import { OID, buildCertificate, fromDer, generateKeyObject, keyIdentifier, name, parseCertificate, parseCsr, spkiOf, type KeyAlgorithm } from './der.js';
import { pemBlocks, toPem } from './pem.js';
import { parseSpiffeId, trustDomainUri, validateTrustDomain, type SpiffeId } from './spiffe.js';

export type Clock = () => number;

export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_WORKLOAD_TTL_MS = 24 * 3600_000;
/** How far notBefore is moved into the past so peers with a slow clock accept new certs. */
export const DEFAULT_BACKDATE_MS = 5 * 60_000;

const DAY_MS = 24 * 3600_000;

/** The persisted form of a CA. */
export interface CaPem {
  certPem: string;
  keyPem: string;
}

interface CaSecrets {
  key: KeyObject;
  subjectDer: Buffer;
  keyId: Buffer;
}
/** The signing material of each CA, out of reach of anything but this module. */
const secrets = new WeakMap<MeshCa, CaSecrets>();

/** A loaded mesh CA (from `createRootCa` or `loadCa`). The private key stays inside. */
export class MeshCa {
  readonly trustDomain: string;
  /** The root certificate, i.e. the trust bundle handed to every agent. */
  readonly certPem: string;
  readonly notBefore: number;
  readonly notAfter: number;

  private constructor(trustDomain: string, certPem: string, notBefore: number, notAfter: number) {
    this.trustDomain = trustDomain;
    this.certPem = certPem;
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    Object.freeze(this);
  }

  /** @internal use `loadCa` */
  static make(init: { trustDomain: string; certPem: string; notBefore: number; notAfter: number } & CaSecrets): MeshCa {
    const ca = new MeshCa(init.trustDomain, init.certPem, init.notBefore, init.notAfter);
    secrets.set(ca, { key: init.key, subjectDer: init.subjectDer, keyId: init.keyId });
    return ca;
  }

  /** Serialize for persistence (the key as unencrypted PKCS#8: protect the file/Secret). */
  toPem(): CaPem {
    return { certPem: this.certPem, keyPem: secrets.get(this)!.key.export({ type: 'pkcs8', format: 'pem' }) as string };
  }
}

function issue(ca: MeshCa, spkiDer: Buffer, uri: string, notBefore: number, notAfter: number, dnsNames: readonly string[] = []): string {
  const s = secrets.get(ca);
  if (!s) throw new AmbitError('AMBIT_ERR_CA', 'bug: MeshCa was not created by createRootCa/loadCa');
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: fromDer(s.subjectDer),
    subject: name({}),
    notBefore,
    notAfter,
    spkiDer,
    extensions: { ca: false, uriSan: uri, dnsSans: dnsNames, sanCritical: true, subjectKeyId: keyIdentifier(spkiDer), authorityKeyId: s.keyId },
    signingKey: s.key,
  });
  return toPem(der, 'CERTIFICATE');
}

/** 127 random bits as a positive INTEGER with a non-zero first byte. */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f || 0x01;
  return serial;
}

export interface CreateRootCaOptions {
  trustDomain: string;
  now?: Clock;
  validityDays?: number;
  /** Subject CN; O is always the trust domain. */
  commonName?: string;
  /** Default `ec-p256`. */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * A new self-signed root (ECDSA P-256 key unless `keyAlgorithm` says otherwise). The root also carries the trust domain's
 * own SPIFFE ID (`spiffe://<td>`) as a URI SAN, so `loadCa` can recover the trust domain.
 */
export function createRootCa(opts: CreateRootCaOptions): MeshCa {
  const td = validateTrustDomain(opts.trustDomain);
  if (!td.ok) throw td.error;
  const validityDays = opts.validityDays ?? DEFAULT_CA_VALIDITY_DAYS;
  if (!(validityDays > 0)) throw new AmbitError('AMBIT_ERR_CONFIG', `CA validityDays must be positive, got ${validityDays}`);
  const now = (opts.now ?? Date.now)();
  const privateKey = generateKeyObject(opts.keyAlgorithm);
  const spkiDer = spkiOf(privateKey);
  const keyId = keyIdentifier(spkiDer);
  const subject = name({ organization: opts.trustDomain, commonName: opts.commonName ?? 'Ambit mesh root CA' });
  const notBefore = Math.floor((now - DEFAULT_BACKDATE_MS) / 1000) * 1000;
  const notAfter = Math.floor((now + validityDays * DAY_MS) / 1000) * 1000;
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBefore,
    notAfter,
    spkiDer,
    extensions: { ca: true, uriSan: trustDomainUri(opts.trustDomain), subjectKeyId: keyId },
    signingKey: privateKey,
  });
  const loaded = loadCa({ certPem: toPem(der, 'CERTIFICATE'), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
  if (!loaded.ok) throw new AmbitError('AMBIT_ERR_CA', `bug: a freshly built root CA does not load: ${loaded.error.message}`);
  return loaded.value;
}

const caError = (why: string, cause?: unknown): Result<never> =>
  fail(new AmbitError('AMBIT_ERR_CA', `mesh CA: ${why}`, cause === undefined ? undefined : { cause }));

/**
 * Loads a CA from PEM (ours, or a plug-in CA with an EC P-256 or RSA key). The trust
 * domain comes from the root's `spiffe://<td>` SAN, or from `trustDomain` when the
 * certificate has none; if both are present they must agree.
 */
export function loadCa(pem: CaPem, opts: { trustDomain?: string } = {}): Result<MeshCa> {
  let key: KeyObject;
  let certDer: Buffer;
  let x509: X509Certificate;
  let fields: ReturnType<typeof parseCertificate>;
  try {
    const blocks = pemBlocks(pem.certPem, 'CERTIFICATE');
    if (blocks.length !== 1) return caError(`expected one root certificate, found ${blocks.length}`);
    certDer = blocks[0]!;
    x509 = new X509Certificate(certDer);
    fields = parseCertificate(certDer);
  } catch (e) {
    return caError(`certificate PEM is malformed (${(e as Error).message})`, e);
  }
  try {
    key = createPrivateKey(pem.keyPem);
  } catch (e) {
    return caError(`private key PEM is malformed (${(e as Error).message})`, e);
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa') {
    return caError(`unsupported key type ${key.asymmetricKeyType}; use EC P-256 or RSA`);
  }
  if (!fields.isCa || !x509.ca) return caError('the certificate is not a CA (basicConstraints CA:true missing)');
  if (!spkiOf(key).equals(fields.spkiDer)) return caError('the private key does not match the certificate');
  const tdUris = fields.san.uris.filter((u) => /^spiffe:\/\/[^/]+$/.test(u)).map((u) => u.slice('spiffe://'.length));
  let trustDomain = opts.trustDomain ?? tdUris[0];
  if (trustDomain === undefined) return caError('the certificate names no trust domain (spiffe://<td> SAN); pass trustDomain');
  if (opts.trustDomain !== undefined && tdUris.length > 0 && !tdUris.includes(opts.trustDomain)) {
    return caError(`the certificate is for trust domain ${tdUris[0]}, not ${opts.trustDomain}`);
  }
  const td = validateTrustDomain(trustDomain);
  if (!td.ok) return td;
  const ski = fields.extensions.get(OID.subjectKeyIdentifier);
  const keyId = ski ? Buffer.from(ski.value.value as string, 'binary') : keyIdentifier(fields.spkiDer);
  return ok(
    MeshCa.make({
      trustDomain,
      certPem: toPem(certDer, 'CERTIFICATE'),
      key,
      notBefore: fields.notBefore,
      notAfter: fields.notAfter,
      subjectDer: fields.subjectDer,
      keyId,
    }),
  );
}

/** Same as `ca.toPem()`. */
export const serializeCa = (ca: MeshCa): CaPem => ca.toPem();

export interface SignOptions {
  /** The identity the caller has authenticated the requester for (e.g. from its ServiceAccount token). */
  spiffeId: SpiffeId | string;
  ttlMs?: number;
  now?: Clock;
  backdateMs?: number;
}

const refused = (why: string, cause?: unknown): Result<never> =>
  fail(new AmbitError('AMBIT_ERR_CSR_REFUSED', `CSR refused: ${why}`, cause === undefined ? undefined : { cause }));

/**
 * Verifies a PKCS#10 CSR (PEM) and issues a leaf certificate (PEM) for exactly `spiffeId`.
 * Refusals (malformed, bad self-signature, weak key, SAN not exactly the authorized
 * identity) are `AMBIT_ERR_CSR_REFUSED` values. Extensions requested in the CSR other than
 * the SAN are ignored; the CA decides them. notAfter is clamped to the CA's own notAfter.
 * Throws for caller bugs: an invalid `spiffeId` or one outside the CA's trust domain.
 */
export function signWorkloadCsr(ca: MeshCa, csrPem: string, opts: SignOptions): Result<string> {
  const id = typeof opts.spiffeId === 'string' ? parseSpiffeId(opts.spiffeId) : parseSpiffeId(opts.spiffeId.uri);
  if (!id.ok) throw id.error;
  if (id.value.trustDomain !== ca.trustDomain) {
    throw new AmbitError('AMBIT_ERR_IDENTITY', `identity ${id.value.uri} is not in the CA's trust domain ${ca.trustDomain}`);
  }
  const ttlMs = opts.ttlMs ?? DEFAULT_WORKLOAD_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new AmbitError('AMBIT_ERR_CONFIG', `certificate ttlMs must be >= 1000, got ${ttlMs}`);
  const now = (opts.now ?? Date.now)();
  if (now >= ca.notAfter) return fail(new AmbitError('AMBIT_ERR_CA', 'mesh CA: the root certificate has expired; rotate the CA'));

  let csr: ReturnType<typeof parseCsr>;
  try {
    const blocks = pemBlocks(csrPem, 'CERTIFICATE REQUEST');
    if (blocks.length !== 1) return refused(`expected one CSR, found ${blocks.length}`);
    csr = parseCsr(blocks[0]!);
  } catch (e) {
    return refused(`malformed CSR (${(e as Error).message})`, e);
  }
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: csr.spkiDer, format: 'der', type: 'spki' });
  } catch (e) {
    return refused(`unreadable public key (${(e as Error).message})`, e);
  }
  const details = pub.asymmetricKeyDetails ?? {};
  if (pub.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') return refused(`EC curve ${details.namedCurve} not accepted; use P-256`);
    if (csr.signatureOid !== OID.ecdsaWithSha256) return refused(`signature algorithm ${csr.signatureOid} does not fit an EC key`);
  } else if (pub.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) return refused(`RSA key of ${details.modulusLength} bits is too weak; use >= 2048`);
    if (csr.signatureOid !== OID.sha256WithRsa) return refused(`signature algorithm ${csr.signatureOid} does not fit an RSA key`);
  } else {
    return refused(`key type ${pub.asymmetricKeyType} not accepted; use EC P-256`);
  }
  let good = false;
  try {
    good = verify('sha256', csr.infoDer, pub, csr.signature);
  } catch {
    good = false;
  }
  if (!good) return refused('the self-signature does not verify (tampered, or not signed by the key it carries)');

  const { uris, others } = csr.san;
  if (uris.length !== 1 || others !== 0 || uris[0] !== id.value.uri) {
    const asked = uris.length === 0 ? 'no URI SAN' : uris.join(', ');
    return refused(`it asks for ${asked}${others ? ` and ${others} other SAN(s)` : ''}, but the caller is authorized only for ${id.value.uri}`);
  }
  const notBefore = Math.max(now - (opts.backdateMs ?? DEFAULT_BACKDATE_MS), ca.notBefore);
  const notAfter = Math.min(now + ttlMs, ca.notAfter);
  return ok(issue(ca, csr.spkiDer, id.value.uri, notBefore, notAfter));
}

export interface ServingCertificateOptions {
  /** The server's SPIFFE ID (the controller's service account). */
  spiffeId: SpiffeId | string;
  /** DNS names clients reach it by (its Service's names). */
  dnsNames: readonly string[];
  ttlMs: number;
  now?: Clock;
  backdateMs?: number;
}

/** A key made here and the certificate the CA issued for it. */
export interface IssuedServingCertificate {
  keyPem: string;
  certChainPem: string;
  notBefore: number;
  notAfter: number;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A fresh ECDSA P-256 key and a leaf for it carrying `spiffeId` and `dnsNames`, signed by the
 * CA that runs in this same process (so no CSR). Throws on bad arguments: an invalid or
 * foreign identity, a malformed DNS name, a TTL under a second, or an expired CA.
 */
export function issueServingCertificate(ca: MeshCa, opts: ServingCertificateOptions): IssuedServingCertificate {
  const id = parseSpiffeId(typeof opts.spiffeId === 'string' ? opts.spiffeId : opts.spiffeId.uri);
  if (!id.ok) throw id.error;
  if (id.value.trustDomain !== ca.trustDomain) {
    throw new AmbitError('AMBIT_ERR_IDENTITY', `identity ${id.value.uri} is not in the CA's trust domain ${ca.trustDomain}`);
  }
  const bad = opts.dnsNames.find((d) => !DNS_NAME.test(d));
  if (bad !== undefined) throw new AmbitError('AMBIT_ERR_CONFIG', `serving certificate DNS name ${JSON.stringify(bad)} is not a valid lower-case DNS name`);
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 1000) throw new AmbitError('AMBIT_ERR_CONFIG', `certificate ttlMs must be >= 1000, got ${opts.ttlMs}`);
  const now = (opts.now ?? Date.now)();
  if (now >= ca.notAfter) throw new AmbitError('AMBIT_ERR_CA', 'mesh CA: the root certificate has expired; rotate the CA');
  const key = generateKeyObject('ec-p256');
  const notBefore = Math.max(now - (opts.backdateMs ?? DEFAULT_BACKDATE_MS), ca.notBefore);
  const notAfter = Math.min(now + opts.ttlMs, ca.notAfter);
  return {
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certChainPem: issue(ca, spkiOf(key), id.value.uri, notBefore, notAfter, opts.dnsNames),
    // As written into the certificate (whole seconds).
    notBefore: Math.floor(notBefore / 1000) * 1000,
    notAfter: Math.floor(notAfter / 1000) * 1000,
  };
}
