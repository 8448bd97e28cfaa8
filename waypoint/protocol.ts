import type { Duplex } from 'node:stream';
import type { ServicePort } from '../lib/xds/index.js';

/** What the waypoint makes of a connection's bytes. */
export type Protocol = 'http1' | 'http2' | 'opaque';

/** HTTP/1.x methods a request line may start with (RFC 9110 and WebDAV's common ones). */
const HTTP1_START = /^(GET|HEAD|POST|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK) /;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * How long the waypoint waits for a client's first bytes before carrying the connection as
 * opaque bytes. A server-first protocol (the server speaks first) pays this once per
 * connection unless its Service port declares it (`appProtocol: tcp`, or a port named `tcp-…`).
 */
export const SNIFF_TIMEOUT_MS = 500;

/**
 * What a Service port declares, as Kubernetes and Istio name it: `appProtocol`, else the
 * port name's prefix (`http-web`, `grpc`, `tcp-db`). `unknown`: sniff the first bytes.
 */
export function protocolOf(port: ServicePort | undefined): Protocol | 'unknown' {
  const declared = (port?.appProtocol || port?.name.split('-')[0] || '').toLowerCase();
  if (declared === 'http' || declared === 'kubernetes.io/http') return 'http1';
  if (declared === 'http2' || declared === 'grpc' || declared === 'kubernetes.io/h2c') return 'http2';
  if (declared === 'tcp' || declared === 'tls' || declared === 'https' || declared === 'mongo' || declared === 'mysql' || declared === 'redis') return 'opaque';
  return 'unknown';
}

/**
 * Reads the connection's first bytes and puts them back: HTTP/1.x by its request line,
 * HTTP/2 by its preface, anything else (or nothing within SNIFF_TIMEOUT_MS) opaque.
 */
export function sniff(s: Duplex, timeoutMs = SNIFF_TIMEOUT_MS): Promise<Protocol> {
  return new Promise((resolve) => {
    const done = (first: Buffer | undefined) => {
      clearTimeout(timer);
      s.off('readable', onReadable);
      s.off('end', onEnd);
      if (first) s.unshift(first);
      resolve(!first ? 'opaque' : HTTP1_START.test(first.subarray(0, 16).toString('latin1')) ? 'http1' : first.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(first.length, H2_PREFACE.length))) ? 'http2' : 'opaque');
    };
    const onReadable = () => {
      const chunk = s.read() as Buffer | null;
      if (chunk) done(chunk);
    };
    const onEnd = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.on('readable', onReadable);
    s.once('end', onEnd);
  });
}
