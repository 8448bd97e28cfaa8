/**
 * Verifying peers: a certificate chain against the mesh root(s), and the SPIFFE identity
 * in its leaf. Also the Node `tls` options every mesh endpoint uses, with the hook that
 * checks the server's SPIFFE identity (Node's hostname check cannot, it knows no URI SANs).
 *
 * Inside a TLS handshake OpenSSL has already checked the chain and validity (against the
 * real clock); `peerIdentity` then only reads the leaf's SPIFFE ID. `verifyPeerChain` is the
 * full check for certificates that arrive outside a handshake, with an injectable clock.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { AmbitError, fail, ok, type Result } from '../errors.js';
import type { Clock } from './ca.js';
import { pemBlocks } from './pem.js';
import { parseSpiffeId, validateTrustDomain, type SpiffeId } from './spiffe.js';

export type VerifyFailureReason =
  | 'malformed' // not parseable, no certificate, or a CA certificate presented as a leaf
  | 'wrong-ca' // not issued (or not validly signed) by a root of the trust bundle
  | 'expired'
  | 'not-yet-valid'
  | 'bad-san' // not exactly one URI SAN, not a SPIFFE workload ID, or another trust domain
  | 'unexpected-identity'; // a valid identity, but not the one the caller expected

export interface VerifyFailure {
  readonly reason: VerifyFailureReason;
  readonly message: string;
}

const failure = (reason: VerifyFailureReason, message: string): Result<never, VerifyFailure> => fail({ reason, message });

/** An `AMBIT_ERR_CERT_INVALID` error (with the `reason`) for logs or for rejecting a connection. */
export const verifyFailureError = (f: VerifyFailure): AmbitError & { reason: VerifyFailureReason } =>
  Object.assign(new AmbitError('AMBIT_ERR_CERT_INVALID', `peer certificate rejected (${f.reason}): ${f.message}`), {
    reason: f.reason,
  });

/** The roots a node trusts, parsed once. */
export interface TrustBundle {
  readonly trustDomain: string;
  readonly rootPem: string;
  readonly roots: readonly X509Certificate[];
}

export function createTrustBundle(trustDomain: string, rootPem: string | readonly string[]): Result<TrustBundle> {
  const td = validateTrustDomain(trustDomain);
  if (!td.ok) return td;
  const pems = typeof rootPem === 'string' ? [rootPem] : rootPem;
  const roots: X509Certificate[] = [];
  try {
    for (const pem of pems) for (const der of pemBlocks(pem, 'CERTIFICATE')) roots.push(new X509Certificate(der));
  } catch (e) {
    return fail(new AmbitError('AMBIT_ERR_CA', `mesh root bundle is malformed (${(e as Error).message})`, { cause: e }));
  }
  if (roots.length === 0) return fail(new AmbitError('AMBIT_ERR_CA', 'mesh root bundle is empty'));
  const notCa = roots.find((r) => !r.ca);
  if (notCa) return fail(new AmbitError('AMBIT_ERR_CA', `mesh root ${notCa.subject} is not a CA certificate`));
  return ok(Object.freeze({ trustDomain, rootPem: roots.map((r) => r.toString()).join(''), roots: Object.freeze(roots) }));
}

/** A certificate as DER, PEM (possibly several, leaf first) or a Node X509Certificate. */
export type CertInput = X509Certificate | Uint8Array | string;

function toX509List(input: CertInput | readonly CertInput[]): X509Certificate[] {
  const list = Array.isArray(input) ? (input as readonly CertInput[]) : [input as CertInput];
  const out: X509Certificate[] = [];
  for (const item of list) {
    if (item instanceof X509Certificate) {
      out.push(item);
      // A cert from getPeerX509Certificate() links to its issuers; follow them when alone.
      if (list.length === 1) {
        let cur: X509Certificate | undefined = item;
        for (let i = 0; i < 8 && cur.issuerCertificate && !cur.issuerCertificate.raw.equals(cur.raw); i++) {
          cur = cur.issuerCertificate;
          out.push(cur);
        }
      }
    } else if (typeof item === 'string') {
      for (const der of pemBlocks(item, 'CERTIFICATE')) out.push(new X509Certificate(der));
    } else {
      out.push(new X509Certificate(Buffer.from(item.buffer, item.byteOffset, item.byteLength)));
    }
  }
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function checkTime(what: string, from: number, to: number, now: number): Result<true, VerifyFailure> {
  if (now < from) return failure('not-yet-valid', `${what} is valid only from ${iso(from)} (now ${iso(now)}); check clocks`);
  if (now > to) return failure('expired', `${what} expired at ${iso(to)} (now ${iso(now)})`);
  return ok(true);
}

/**
 * The URI entries of a subjectAltName as Node reports it (`X509Certificate.subjectAltName`,
 * `PeerCertificate.subjectaltname`): `URI:spiffe://a, DNS:b`, with a value that holds a
 * separator or quote written as a JSON string.
 */
export function sanUris(subjectAltName: string | undefined): string[] {
  const uris: string[] = [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  for (let m = entry.exec(subjectAltName ?? ''); m; m = entry.exec(subjectAltName ?? '')) {
    if (m[1] === 'URI') uris.push(m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!);
    if (entry.lastIndex >= (subjectAltName ?? '').length) break;
  }
  return uris;
}

/**
 * The SPIFFE ID in a leaf certificate, without any chain or time check: exactly one URI
 * SAN, a `spiffe://<td>/ns/<ns>/sa/<sa>` in `trustDomain`, and not a CA certificate.
 * Other SAN types (DNS, IP) are tolerated, as the X.509-SVID spec allows.
 *
 * On the handshake path the certificate is the object Node already parsed
 * (`getPeerX509Certificate()`, or the PeerCertificate `checkServerIdentity`
 * gets): its SAN and CA flag are read from it, about 0.1 µs, where parsing the
 * DER again (der.ts, node-forge) took about 17 µs (Node 20, 2 vCPU). DER or
 * PEM given here (outside a handshake: tests, tools) are parsed by Node too
 * (about 0.4 ms), so nothing on the data path loads node-forge.
 */
export function leafIdentity(cert: CertInput | PeerCertificate, trustDomain: string): Result<SpiffeId, VerifyFailure> {
  let isCa: boolean;
  let uris: string[];
  if (cert instanceof X509Certificate) {
    isCa = cert.ca;
    uris = sanUris(cert.subjectAltName);
  } else if (typeof cert === 'object' && !(cert instanceof Uint8Array)) {
    isCa = (cert as PeerCertificate & { ca?: boolean }).ca === true;
    uris = sanUris(cert.subjectaltname);
  } else {
    try {
      const x = new X509Certificate(typeof cert === 'string' ? pemBlocks(cert, 'CERTIFICATE')[0]! : cert);
      isCa = x.ca;
      uris = sanUris(x.subjectAltName);
    } catch (e) {
      return failure('malformed', `certificate cannot be parsed (${(e as Error).message})`);
    }
  }
  if (isCa) return failure('malformed', 'a CA certificate was presented as a workload certificate');
  if (uris.length !== 1) return failure('bad-san', `expected exactly one URI SAN, found ${uris.length}`);
  const id = parseSpiffeId(uris[0]!);
  if (!id.ok) return failure('bad-san', id.error.message);
  if (id.value.trustDomain !== trustDomain) {
    return failure('bad-san', `identity ${id.value.uri} is not in trust domain ${trustDomain}`);
  }
  return id;
}

export interface VerifyOptions {
  now?: Clock;
  /** Accept only these identities (else `unexpected-identity`). */
  expected?: SpiffeId | string | readonly (SpiffeId | string)[];
  /** Skip the validity-window check (used when loading our own, maybe not-yet-valid, cert). */
  ignoreTime?: boolean;
}

const uriOf = (e: SpiffeId | string): string => (typeof e === 'string' ? e : e.uri);

/**
 * Full verification of a peer chain (leaf first; intermediates optional) against the bundle:
 * each link's signature and issuer, every certificate's validity at `now`, and the leaf's
 * SPIFFE ID. Returns that ID or the reason for refusal.
 */
export function verifyPeerChain(
  chain: CertInput | readonly CertInput[],
  trust: TrustBundle,
  opts: VerifyOptions = {},
): Result<SpiffeId, VerifyFailure> {
  let certs: X509Certificate[];
  try {
    certs = toX509List(chain);
  } catch (e) {
    return failure('malformed', `certificate cannot be parsed (${(e as Error).message})`);
  }
  if (certs.length === 0) return failure('malformed', 'no certificate was presented');

  const path: X509Certificate[] = [];
  let anchor: X509Certificate | undefined;
  for (let i = 0; i < certs.length && !anchor; i++) {
    const cur = certs[i]!;
    if (i > 0 && trust.roots.some((r) => r.raw.equals(cur.raw))) break; // the peer sent our root along
    path.push(cur);
    const root = trust.roots.find((r) => cur.checkIssued(r));
    if (root) {
      if (!cur.verify(root.publicKey)) {
        return failure('wrong-ca', `certificate ${i} names the mesh root as issuer but its signature does not verify (tampered?)`);
      }
      anchor = root;
      break;
    }
    const next = certs[i + 1];
    if (!next || trust.roots.some((r) => r.raw.equals(next.raw))) {
      return failure('wrong-ca', `certificate ${i} (issuer ${JSON.stringify(cur.issuer)}) was not issued by the mesh root of ${trust.trustDomain}`);
    }
    if (!next.ca || !cur.checkIssued(next) || !cur.verify(next.publicKey)) {
      return failure('wrong-ca', `certificate ${i} is not signed by certificate ${i + 1} of the chain`);
    }
  }
  if (!anchor) {
    // The loop ended on "the peer sent our root": the last cert in path must be issued by it.
    const last = path[path.length - 1];
    const root = last && trust.roots.find((r) => last.checkIssued(r) && last.verify(r.publicKey));
    if (!root) return failure('wrong-ca', `the chain does not lead to the mesh root of ${trust.trustDomain}`);
    anchor = root;
  }

  if (!opts.ignoreTime) {
    const now = (opts.now ?? Date.now)();
    const all = [...path, anchor];
    for (let i = 0; i < all.length; i++) {
      const c = all[i]!;
      const what = i === 0 ? 'peer certificate' : c === anchor ? 'mesh root certificate' : `intermediate certificate ${i}`;
      const t = checkTime(what, Date.parse(c.validFrom), Date.parse(c.validTo), now);
      if (!t.ok) return t;
    }
  }

  const id = leafIdentity(path[0]!, trust.trustDomain);
  if (!id.ok || opts.expected === undefined) return id;
  const expected = Array.isArray(opts.expected) ? opts.expected.map(uriOf) : [uriOf(opts.expected as SpiffeId | string)];
  if (!expected.includes(id.value.uri)) {
    return failure('unexpected-identity', `peer is ${id.value.uri}, expected ${expected.join(' or ')}`);
  }
  return id;
}

// OpenSSL verify codes (tls `authorizationError`, or `err.code` on the client) -> reasons.
const OPENSSL_REASONS: Record<string, VerifyFailureReason> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'wrong-ca',
  UNABLE_TO_GET_ISSUER_CERT: 'wrong-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'wrong-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'wrong-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'wrong-ca',
  CERT_SIGNATURE_FAILURE: 'wrong-ca',
  CERT_UNTRUSTED: 'wrong-ca',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'malformed',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'malformed',
};

/**
 * Why a mesh TLS connection failed, if it was the certificate: for a server's
 * `tlsClientError (err, socket)` (Node destroys the socket after the handshake, so `err` is
 * often a bare ECONNRESET and the verify result is on `socket.authorizationError`), and for a
 * client's `error` (OpenSSL codes, or our SPIFFE check's AMBIT_ERR_CERT_INVALID).
 * Returns undefined for failures that are not about certificates.
 */
export function classifyTlsFailure(err: Error & { code?: string }, socket?: TLSSocket): VerifyFailure | undefined {
  const reason = (err as { reason?: unknown }).reason;
  if (err instanceof AmbitError && err.code === 'AMBIT_ERR_CERT_INVALID' && typeof reason === 'string') {
    return { reason: reason as VerifyFailureReason, message: err.message };
  }
  for (const code of [socket?.authorizationError, err.code]) {
    const r = code === undefined || code === null ? undefined : OPENSSL_REASONS[String(code)];
    if (r) return { reason: r, message: `TLS peer rejected: ${String(code)}` };
  }
  return undefined;
}

/**
 * The SPIFFE ID of the peer of an established mesh TLS connection (server or client side).
 * Requires that OpenSSL authorized the chain (`socket.authorized`), i.e. that the socket
 * was set up with `meshTlsOptions`.
 */
export function peerIdentity(socket: TLSSocket, trustDomain: string): Result<SpiffeId, VerifyFailure> {
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    return failure(OPENSSL_REASONS[code] ?? 'wrong-ca', `TLS peer not authorized: ${code}`);
  }
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return failure('malformed', 'the TLS peer sent no certificate');
  return leafIdentity(leaf, trustDomain);
}

/** What a mesh endpoint needs to present its identity and trust the mesh root. */
export interface WorkloadTlsMaterial {
  keyPem: string;
  certChainPem: string;
  rootPem: string;
}

export interface MeshTlsOptions {
  key: string;
  cert: string;
  ca: string;
  minVersion: 'TLSv1.3';
  requestCert: true;
  rejectUnauthorized: true;
}

/** Mutual TLS 1.3 options for `tls.createServer`, `tls.connect` or `tls.createSecureContext`. */
export function meshTlsOptions(m: WorkloadTlsMaterial): MeshTlsOptions {
  return { key: m.keyPem, cert: m.certChainPem, ca: m.rootPem, minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true };
}

/**
 * A `checkServerIdentity` for `tls.connect`: accepts the server only if its leaf carries one
 * of the expected SPIFFE IDs (the hostname is ignored). Node calls it after OpenSSL has
 * verified the chain; a returned error aborts the connection with that error.
 */
export function spiffeServerIdentityCheck(
  expected: SpiffeId | string | readonly (SpiffeId | string)[],
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const list = (Array.isArray(expected) ? expected : [expected]) as readonly (SpiffeId | string)[];
  const ids = list.map((e) => {
    const r = parseSpiffeId(uriOf(e));
    if (!r.ok) throw r.error;
    return r.value;
  });
  if (ids.length === 0) throw new AmbitError('AMBIT_ERR_IDENTITY', 'spiffeServerIdentityCheck needs at least one expected identity');
  const trustDomain = ids[0]!.trustDomain;
  const uris = new Set(ids.map((i) => i.uri));
  return (_hostname, cert) => {
    if (!cert?.raw) return verifyFailureError({ reason: 'malformed', message: 'the server sent no certificate' });
    const id = leafIdentity(cert, trustDomain);
    if (!id.ok) return verifyFailureError(id.error);
    if (!uris.has(id.value.uri)) {
      return verifyFailureError({ reason: 'unexpected-identity', message: `server is ${id.value.uri}, expected ${[...uris].join(' or ')}` });
    }
    return undefined;
  };
}

/** `meshTlsOptions` plus the SPIFFE server check, for the connecting side. */
export function meshClientTlsOptions(
  m: WorkloadTlsMaterial,
  expectedServer: SpiffeId | string | readonly (SpiffeId | string)[],
): MeshTlsOptions & { checkServerIdentity: (hostname: string, cert: PeerCertificate) => Error | undefined } {
  return { ...meshTlsOptions(m), checkServerIdentity: spiffeServerIdentityCheck(expectedServer) };
}
