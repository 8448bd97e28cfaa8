import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Result } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import type { HttpConnection, RequestGate, RequestLine } from './requests.js';

export interface Http2ProxyOptions {
  /** Authorizes, picks the endpoint, counts and logs (shared with HTTP/1.1). */
  gate: RequestGate;
  /** A byte stream to an endpoint: HBONE to its node agent, or plain TCP outside the mesh. */
  open(endpoint: Target): Promise<Result<Duplex, Error>>;
  log: Logger;
}

const { HTTP2_HEADER_STATUS, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); `te: trailers` is allowed and kept. */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/**
 * HTTP/2 with prior knowledge (h2c: what gRPC and other HTTP/2 clients send inside the mesh,
 * where the tunnel already is mutual TLS) through the waypoint. Each stream is a request:
 * authorized, sent to an endpoint of its own on an HTTP/2 connection the waypoint keeps per
 * endpoint (multiplexed, reopened when it goes away), and counted and logged once. Response
 * trailers pass through (gRPC's `grpc-status` lives there), and so do deadlines
 * (`grpc-timeout` is a header); a reset on either side resets the other.
 */
export class Http2Proxy {
  /** Upstream HTTP/2 connections by endpoint `ip:port`. */
  private readonly upstreams = new Map<string, Promise<Result<http2.ClientHttp2Session, Error>>>();

  constructor(private readonly o: Http2ProxyOptions) {}

  /** Serves a downstream connection that opened with the HTTP/2 preface. */
  serve(downstream: Duplex, c: HttpConnection): void {
    // One server object per connection: its handler knows whose connection it is.
    const server = http2.createServer({ maxSessionMemory: 64 }, (req, res) => void this.request(req, res, c));
    server.on('sessionError', (err: Error) => this.o.log.info({ err: err.message, principal: c.principal }, 'HTTP/2 session error from a client'));
    server.emit('connection', downstream);
  }

  private upstream(endpoint: Target): Promise<Result<http2.ClientHttp2Session, Error>> {
    const key = `${endpoint.ip}:${endpoint.port}`;
    let session = this.upstreams.get(key);
    if (!session) {
      session = this.o.open(endpoint).then((opened): Result<http2.ClientHttp2Session, Error> => {
        if (!opened.ok) {
          this.upstreams.delete(key);
          return opened;
        }
        const s = http2.connect(`http://${key}`, { createConnection: () => opened.value as never });
        const forget = () => {
          if (this.upstreams.get(key) === session) this.upstreams.delete(key);
        };
        s.on('close', forget);
        s.on('goaway', forget);
        s.on('error', (err: Error) => {
          forget();
          this.o.log.info({ endpoint: key, err: err.message }, 'upstream HTTP/2 connection failed');
        });
        return { ok: true, value: s };
      });
      this.upstreams.set(key, session);
    }
    return session;
  }

  private async request(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, c: HttpConnection): Promise<void> {
    const started = Date.now();
    const line: RequestLine = { protocol: 'h2', method: req.method, path: req.url, authority: req.authority ?? '', headers: req.headers };
    let requestBytes = 0;
    let responseBytes = 0;
    let reported = false;
    const done = (code: number, flags: string, endpoint: Target | undefined, extra: Record<string, unknown> = {}) => {
      if (reported) return;
      reported = true;
      this.o.gate.report(c, line, { code, flags, endpoint, durationMs: Date.now() - started, requestBytes, responseBytes, extra });
    };
    const refuse = (status: number, body: string, flags: string, endpoint?: Target, policy?: string) => {
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
      responseBytes = Buffer.byteLength(body);
      done(status, flags, endpoint, policy ? { policy } : {});
    };
    const a = this.o.gate.admit(line, c);
    if (!a.ok) return refuse(a.status, a.body, a.flags, a.endpoint, a.policy);
    const upstream = await this.upstream(a.endpoint);
    if (!upstream.ok) return refuse(503, `upstream connect error: ${upstream.error.message}\n`, 'UF', a.endpoint);
    const headers: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !FORBIDDEN.has(k)) headers[k] = v;
    let up: http2.ClientHttp2Stream;
    try {
      up = upstream.value.request(headers);
    } catch (err) {
      return refuse(503, `upstream stream refused: ${(err as Error).message}\n`, 'UF', a.endpoint);
    }
    req.on('data', (d: Buffer) => (requestBytes += d.length));
    req.pipe(up);
    // Node emits 'response' on the next tick but 'data' at once: the body is read only once the
    // head is written, or the first chunk would go out under default headers (200, no type).
    up.on('response', (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined && !k.startsWith(':') && !FORBIDDEN.has(k)) out[k] = v;
      res.writeHead(Number(h[HTTP2_HEADER_STATUS] ?? 502), out);
      up.on('data', (d: Buffer) => {
        responseBytes += d.length;
        res.write(d);
      });
    });
    up.on('trailers', (t: http2.IncomingHttpHeaders) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(t)) if (v !== undefined && !k.startsWith(':')) out[k] = v;
      res.addTrailers(out);
    });
    up.on('end', () => {
      res.end();
      done(res.statusCode, '-', a.endpoint);
    });
    up.on('error', (err: Error) => {
      if (!res.headersSent) return refuse(502, `upstream reset: ${err.message}\n`, 'UR', a.endpoint);
      res.stream.close(NGHTTP2_INTERNAL_ERROR);
      done(res.statusCode, 'UR', a.endpoint, { error: err.message });
    });
    // The client gave up (reset, or its deadline passed): so does the upstream stream.
    res.stream.on('close', () => {
      if (!up.closed) up.close(NGHTTP2_CANCEL);
    });
  }
}
