/**
 * Internal: the DER/PEM plumbing for X.509 certificates and PKCS#10 requests with EC
 * (and RSA) keys. node-forge's high-level `pki` only handles RSA keys, so structures are
 * built with `forge.asn1` and signed with Node's `crypto.sign` (OpenSSL).
 * forge works on "binary strings"; `bin`/`buf` convert at the edges.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  extensionRequest: '1.2.840.113549.1.9.14',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const U = asn1.Class.UNIVERSAL;
const C = asn1.Class.CONTEXT_SPECIFIC;
const T = asn1.Type;

export const bin = (b: Uint8Array): string => Buffer.from(b).toString('binary');
export const buf = (s: string): Buffer => Buffer.from(s, 'binary');

/** `ec-p256` is the mesh's choice; `rsa-2048` exists for comparison and plug-in setups. */
export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';

export function generateKeyObject(alg: KeyAlgorithm = 'ec-p256'): KeyObject {
  return alg === 'ec-p256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

// ---------------------------------------------------------------- ASN.1 building

const seq = (items: Asn1[]): Asn1 => asn1.create(U, T.SEQUENCE, true, items);
const set = (items: Asn1[]): Asn1 => asn1.create(U, T.SET, true, items);
const oid = (o: string): Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
const octets = (b: Uint8Array): Asn1 => asn1.create(U, T.OCTETSTRING, false, bin(b));
const bits = (b: Uint8Array, unused = 0): Asn1 => asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused) + bin(b));
const bool = (v: boolean): Asn1 => asn1.create(U, T.BOOLEAN, false, v ? '\xff' : '\x00');
const utf8 = (s: string): Asn1 => asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(s));
const intBytes = (b: Uint8Array): Asn1 => asn1.create(U, T.INTEGER, false, bin(b));
const smallInt = (n: number): Asn1 => asn1.create(U, T.INTEGER, false, String.fromCharCode(n));

export const toDer = (a: Asn1): Buffer => buf(asn1.toDer(a).getBytes());

/** Parses strict DER; with `exact`, also requires that re-encoding gives the same bytes. */
export function fromDer(der: Uint8Array, exact = false): Asn1 {
  const s = bin(der);
  const parsed = (asn1.fromDer as unknown as (b: string, o: object) => Asn1)(s, {
    strict: true,
    parseAllBytes: true,
    decodeBitStrings: false,
  });
  if (exact && asn1.toDer(parsed).getBytes() !== s) throw new Error('not canonical DER');
  return parsed;
}

function time(ms: number): Asn1 {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

/** A Name with optional O and CN (an empty SEQUENCE when neither is given). */
export function name(attrs: { organization?: string; commonName?: string }): Asn1 {
  const rdns: Asn1[] = [];
  if (attrs.organization !== undefined) rdns.push(set([seq([oid(OID.organizationName), utf8(attrs.organization)])]));
  if (attrs.commonName !== undefined) rdns.push(set([seq([oid(OID.commonName), utf8(attrs.commonName)])]));
  return seq(rdns);
}

const extension = (o: string, critical: boolean, value: Asn1): Asn1 =>
  seq(critical ? [oid(o), bool(true), octets(toDer(value))] : [oid(o), octets(toDer(value))]);

/** A subjectAltName with one URI (GeneralName [6]) and any DNS names ([2]). */
export const uriSan = (uri: string, dnsNames: readonly string[] = []): Asn1 =>
  seq([asn1.create(C, 6, false, uri), ...dnsNames.map((d) => asn1.create(C, 2, false, d))]);

export interface ExtensionSpec {
  ca: boolean;
  uriSan?: string;
  /** DNS names beside the URI SAN (the controller's serving certificate). */
  dnsSans?: readonly string[];
  /** The SAN must be critical when the subject is empty (RFC 5280 4.2.1.6). */
  sanCritical?: boolean;
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
}

function extensions(spec: ExtensionSpec): Asn1[] {
  const exts: Asn1[] = [];
  exts.push(extension(OID.basicConstraints, true, seq(spec.ca ? [bool(true)] : [])));
  // keyUsage bits: digitalSignature(0) => 0x80/7 unused; keyCertSign(5)+cRLSign(6) => 0x06/1 unused.
  exts.push(extension(OID.keyUsage, true, spec.ca ? bits(Buffer.of(0x06), 1) : bits(Buffer.of(0x80), 7)));
  if (!spec.ca) exts.push(extension(OID.extKeyUsage, false, seq([oid(OID.serverAuth), oid(OID.clientAuth)])));
  if (spec.subjectKeyId) exts.push(extension(OID.subjectKeyIdentifier, false, octets(spec.subjectKeyId)));
  if (spec.authorityKeyId) {
    exts.push(extension(OID.authorityKeyIdentifier, false, seq([asn1.create(C, 0, false, bin(spec.authorityKeyId))])));
  }
  if (spec.uriSan !== undefined) exts.push(extension(OID.subjectAltName, spec.sanCritical ?? false, uriSan(spec.uriSan, spec.dnsSans)));
  return exts;
}

/** AlgorithmIdentifier for signing with this key (ECDSA-SHA256 or RSA PKCS#1 v1.5 SHA-256). */
function signatureAlgorithm(key: KeyObject): Asn1 {
  if (key.asymmetricKeyType === 'ec') return seq([oid(OID.ecdsaWithSha256)]);
  if (key.asymmetricKeyType === 'rsa') return seq([oid(OID.sha256WithRsa), asn1.create(U, T.NULL, false, '')]);
  throw new Error(`unsupported signing key type ${key.asymmetricKeyType}`);
}

function signed(body: Asn1, key: KeyObject): Buffer {
  const alg = signatureAlgorithm(key);
  const sig = sign('sha256', toDer(body), key); // ECDSA: DER Ecdsa-Sig-Value, as X.509 wants
  return toDer(seq([body, alg, bits(sig)]));
}

/** Key id per RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = fromDer(spkiDer);
  const bitString = (spki.value as Asn1[])[1]!;
  return createHash('sha1').update(buf((bitString.value as string).slice(1))).digest();
}

export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

export interface CertificateSpec {
  serial: Buffer;
  issuer: Asn1;
  subject: Asn1;
  notBefore: number;
  notAfter: number;
  spkiDer: Buffer;
  extensions: ExtensionSpec;
  signingKey: KeyObject;
}

export function buildCertificate(spec: CertificateSpec): Buffer {
  const tbs = seq([
    asn1.create(C, 0, true, [smallInt(2)]),
    intBytes(spec.serial),
    signatureAlgorithm(spec.signingKey),
    spec.issuer,
    seq([time(spec.notBefore), time(spec.notAfter)]),
    spec.subject,
    fromDer(spec.spkiDer),
    asn1.create(C, 3, true, [seq(extensions(spec.extensions))]),
  ]);
  return signed(tbs, spec.signingKey);
}

/** PKCS#10 with an empty subject and a URI SAN in an extensionRequest attribute. */
export function buildCsr(key: KeyObject, uri: string): Buffer {
  const extReq = seq([oid(OID.extensionRequest), set([seq([extension(OID.subjectAltName, true, uriSan(uri))])])]);
  const info = seq([smallInt(0), name({}), fromDer(spkiOf(key)), asn1.create(C, 0, true, [extReq])]);
  return signed(info, key);
}

// ---------------------------------------------------------------- parsing

const isU = (a: Asn1 | undefined, type: number): a is Asn1 => !!a && a.tagClass === U && a.type === type;
const isC = (a: Asn1 | undefined, tag: number): a is Asn1 => !!a && a.tagClass === C && a.type === tag;
const children = (a: Asn1 | undefined, what: string): Asn1[] => {
  if (!a || !Array.isArray(a.value)) throw new Error(`${what} is not a constructed value`);
  return a.value;
};
export const oidOf = (a: Asn1 | undefined, what: string): string => {
  if (!isU(a, T.OID)) throw new Error(`${what} is not an OID`);
  return asn1.derToOid(a.value as string);
};

export interface ParsedExtension {
  critical: boolean;
  value: Asn1;
}

/** Parses an Extensions SEQUENCE into oid -> extension; duplicates are malformed. */
export function parseExtensions(a: Asn1): Map<string, ParsedExtension> {
  const out = new Map<string, ParsedExtension>();
  for (const ext of children(a, 'extensions')) {
    const parts = children(ext, 'extension');
    const id = oidOf(parts[0], 'extension id');
    let critical = false;
    let i = 1;
    if (isU(parts[1], T.BOOLEAN)) {
      critical = (parts[1].value as string) !== '\x00';
      i = 2;
    }
    const os = parts[i];
    if (!isU(os, T.OCTETSTRING) || parts.length !== i + 1) throw new Error(`extension ${id} is malformed`);
    if (out.has(id)) throw new Error(`extension ${id} appears twice`);
    out.set(id, { critical, value: fromDer(buf(os.value as string)) });
  }
  return out;
}

export interface SanSummary {
  uris: string[];
  /** Count of non-URI GeneralNames (DNS, IP, email...). */
  others: number;
}

export function parseSan(value: Asn1): SanSummary {
  const uris: string[] = [];
  let others = 0;
  for (const gn of children(value, 'subjectAltName')) {
    if (isC(gn, 6) && !gn.constructed) uris.push(gn.value as string);
    else others++;
  }
  return { uris, others };
}

function parseTime(a: Asn1 | undefined): number {
  if (!a || a.tagClass !== U || typeof a.value !== 'string') throw new Error('validity time is malformed');
  if (a.type === T.UTCTIME) return asn1.utcTimeToDate(a.value).getTime();
  if (a.type === T.GENERALIZEDTIME) return asn1.generalizedTimeToDate(a.value).getTime();
  throw new Error('validity time is neither UTCTime nor GeneralizedTime');
}

export interface CertificateFields {
  notBefore: number;
  notAfter: number;
  spkiDer: Buffer;
  subjectDer: Buffer;
  extensions: Map<string, ParsedExtension>;
  san: SanSummary;
  isCa: boolean;
}

/** The fields of an X.509 certificate the mesh cares about. Signatures are checked elsewhere. */
export function parseCertificate(der: Uint8Array): CertificateFields {
  const cert = children(fromDer(der), 'certificate');
  if (cert.length !== 3) throw new Error('certificate must have tbsCertificate, algorithm and signature');
  const tbs = children(cert[0], 'tbsCertificate');
  const off = isC(tbs[0], 0) ? 1 : 0;
  const validity = children(tbs[off + 3], 'validity');
  const spki = tbs[off + 5];
  if (!spki) throw new Error('certificate has no subjectPublicKeyInfo');
  const extWrapper = tbs.slice(off + 6).find((a) => isC(a, 3));
  const extensions = extWrapper ? parseExtensions(children(extWrapper, 'extensions')[0]!) : new Map();
  const sanExt = extensions.get(OID.subjectAltName);
  const bc = extensions.get(OID.basicConstraints);
  const bcFirst = bc ? (bc.value.value as Asn1[])[0] : undefined;
  return {
    notBefore: parseTime(validity[0]),
    notAfter: parseTime(validity[1]),
    spkiDer: toDer(spki),
    subjectDer: toDer(tbs[off + 4]!),
    extensions,
    san: sanExt ? parseSan(sanExt.value) : { uris: [], others: 0 },
    isCa: isU(bcFirst, T.BOOLEAN) && (bcFirst.value as string) !== '\x00',
  };
}

export interface ParsedCsr {
  infoDer: Buffer;
  signatureOid: string;
  signature: Buffer;
  spkiDer: Buffer;
  san: SanSummary;
}

/** Parses a PKCS#10 request (canonical DER only, so the signed bytes are exactly recoverable). */
export function parseCsr(der: Uint8Array): ParsedCsr {
  const top = children(fromDer(der, true), 'CertificationRequest');
  if (top.length !== 3) throw new Error('CSR must have info, algorithm and signature');
  const info = children(top[0], 'CertificationRequestInfo');
  const version = info[0];
  if (info.length !== 4 || !isU(version, T.INTEGER) || version.value !== '\x00') {
    throw new Error('CSR info must be version 0, subject, public key, attributes');
  }
  const attrs = info[3];
  if (!isC(attrs, 0)) throw new Error('CSR attributes are missing');
  let san: SanSummary = { uris: [], others: 0 };
  for (const attr of children(attrs, 'CSR attributes')) {
    const [type, values] = children(attr, 'CSR attribute');
    if (oidOf(type, 'CSR attribute type') !== OID.extensionRequest) continue;
    const exts = parseExtensions(children(values, 'extensionRequest values')[0]!);
    const sanExt = exts.get(OID.subjectAltName);
    if (sanExt) san = parseSan(sanExt.value);
  }
  const sigBits = top[2];
  if (!isU(sigBits, T.BITSTRING) || (sigBits.value as string).charCodeAt(0) !== 0) {
    throw new Error('CSR signature is not a whole-byte BIT STRING');
  }
  return {
    infoDer: toDer(top[0]!),
    signatureOid: oidOf(children(top[1], 'signature algorithm')[0], 'signature algorithm'),
    signature: buf((sigBits.value as string).slice(1)),
    spkiDer: toDer(info[2]!),
    san,
  };
}
