/**
 * HBONE failures as values: an `AmbitError` with the HTTP status and reason the peer gave
 * (when it gave one), and helpers that turn socket, TLS and HTTP/2 errors into clear ones.
 */
import { classifyTlsFailure } from '../identity/verify.js';
import { AmbitError, type ErrorCode } from '../errors.js';
import { MAX_REASON_LENGTH } from './constants.js';

/** Why a TLS handshake failed: a `VerifyFailureReason` of the server's certificate, or on the peer's side. */
export type HboneTlsReason =
  | 'malformed'
  | 'wrong-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-san'
  | 'unexpected-identity'
  /** the peer refused our certificate (its TLS alert is in the message) */
  | 'rejected-by-peer'
  /** the handshake failed otherwise (protocol versions, ALPN, connection lost mid-handshake) */
  | 'handshake';

/** An HBONE failure value; `code` is one of the AMBIT_ERR_HBONE_* codes (or AMBIT_ERR_UPSTREAM_CONNECT). */
export class HboneError extends AmbitError {
  /** HTTP status of the peer's response, when the failure was a response. */
  readonly status: number | undefined;
  /** The peer's `ambit-reason` header, or the TLS failure reason. */
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { status?: number; reason?: string; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HboneError';
    this.status = opts.status;
    this.reason = opts.reason;
  }
}

/** A header-safe reason: printable ASCII, bounded length. */
export function sanitizeReason(reason: string): string {
  const clean = reason.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return clean.length > MAX_REASON_LENGTH ? `${clean.slice(0, MAX_REASON_LENGTH - 3)}...` : clean;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

// TLS alerts the server sends when it refuses our certificate (OpenSSL names them SSLV3 or TLSV1 or TLSV13).
const PEER_ALERTS: Record<string, string> = {
  ALERT_UNKNOWN_CA: 'it does not trust our certificate issuer (different mesh root?)',
  ALERT_CERTIFICATE_EXPIRED: 'our certificate has expired (rotation stuck? clock skew?)',
  ALERT_CERTIFICATE_REQUIRED: 'we presented no certificate',
  ALERT_BAD_CERTIFICATE: 'it found our certificate bad',
  ALERT_CERTIFICATE_UNKNOWN: 'it could not verify our certificate',
  ALERT_DECRYPT_ERROR: 'our certificate signature did not verify',
  ALERT_NO_APPLICATION_PROTOCOL: 'it does not speak HTTP/2 (ALPN h2)',
  ALERT_PROTOCOL_VERSION: 'it does not accept TLS 1.3',
};

/**
 * The error value for a session that failed to open or died: connect failures, TLS failures
 * on either side (with the reason), or anything else as a protocol error.
 */
export function sessionError(err: Error & { code?: string }, via: string, phase: 'connect' | 'handshake' | 'session'): HboneError {
  const code = err.code ?? '';
  if (err instanceof HboneError) return err;
  if (CONNECT_CODES.has(code) || (phase === 'connect' && code === 'ECONNRESET')) {
    return new HboneError('AMBIT_ERR_HBONE_CONNECT', `HBONE connect to ${via} failed (${code || err.message}); is the peer agent running and port 15008 reachable (NetworkPolicy, firewall)?`, { cause: err });
  }
  const verify = classifyTlsFailure(err);
  if (verify && err instanceof AmbitError) {
    return new HboneError('AMBIT_ERR_HBONE_TLS', `HBONE server ${via} rejected: ${verify.message}`, { reason: verify.reason, cause: err });
  }
  const alert = Object.keys(PEER_ALERTS).find((a) => code.endsWith(a));
  if (alert) {
    return new HboneError('AMBIT_ERR_HBONE_TLS', `HBONE peer ${via} refused the TLS handshake: ${PEER_ALERTS[alert]} (${code})`, { reason: 'rejected-by-peer', cause: err });
  }
  if (verify) {
    return new HboneError('AMBIT_ERR_HBONE_TLS', `HBONE server ${via} certificate rejected (${verify.reason}): ${verify.message}`, { reason: verify.reason, cause: err });
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || phase === 'handshake') {
    return new HboneError('AMBIT_ERR_HBONE_TLS', `HBONE TLS handshake with ${via} failed (${code || err.message})`, { reason: 'handshake', cause: err });
  }
  return new HboneError('AMBIT_ERR_HBONE_PROTOCOL', `HBONE session to ${via} failed (${code || err.message})`, { cause: err });
}

/** The error value for a refusal the peer answered with an HTTP status. */
export function responseError(status: number, reason: string | undefined, destination: string, via: string): HboneError {
  const why = reason ? `: ${reason}` : '';
  if (status === 401 || status === 403) {
    return new HboneError('AMBIT_ERR_HBONE_DENIED', `HBONE tunnel to ${destination} via ${via} denied (${status})${why}`, { status, ...(reason ? { reason } : {}) });
  }
  if (status === 503 || status === 502 || status === 504) {
    return new HboneError('AMBIT_ERR_HBONE_UPSTREAM', `HBONE peer ${via} could not reach ${destination} (${status})${why}`, { status, ...(reason ? { reason } : {}) });
  }
  return new HboneError('AMBIT_ERR_HBONE_PROTOCOL', `HBONE peer ${via} answered ${status} to CONNECT ${destination}${why}`, { status, ...(reason ? { reason } : {}) });
}
