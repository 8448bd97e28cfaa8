import http from 'node:http';
import http2 from 'node:http2';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { AmbitError, type Result } from '../lib/errors.js';
import { splice } from '../lib/hbone/index.js';
import type { Logger } from '../lib/log.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import { duplexPair } from './pair.js';

/**
 * One try of a request to one endpoint, the same shape for HTTP/1.1 and
 * HTTP/2 so that routing, retries and timeouts (exchange.ts) are written once.
 */
export interface UpstreamHead {
  method: string;
  /** Path with query. */
  path: string;
  authority: string;
  /** Forwardable headers only (no hop-by-hop, no pseudo-headers, no host). */
  headers: http.OutgoingHttpHeaders;
}

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
  /** The trailers, once `body` has ended (empty when there were none). */
  trailers(): http.IncomingHttpHeaders;
}

/** Why a try got no response: it never reached the endpoint, or the endpoint dropped it. */
export type UpstreamFailure = { kind: 'connect-failure' | 'reset' | 'refused-stream'; message: string };

export type UpstreamResult = { ok: true; response: UpstreamResponse } | ({ ok: false } & UpstreamFailure);

export interface UpstreamCall {
  /** Where the request body goes; end it when the body ends. */
  body: Writable;
  result: Promise<UpstreamResult>;
  /** Gives the try up (timeout, retry, client gone): the stream or connection is reset. */
  abort(): void;
}

export interface Upstream {
  call(endpoint: Target, head: UpstreamHead): UpstreamCall;
}

/** A byte stream to an endpoint (HBONE to its node agent, or plain TCP outside the mesh). */
export type OpenTunnel = (endpoint: Target) => Promise<Result<Duplex, Error>>;

const endpointKey = (t: Target) => `${t.ip}:${t.port}`;

/**
 * HTTP/1.1 upstream: requests go over connections kept alive per endpoint
 * (TunnelAgent), so a connection is opened only when none is idle.
 */
export class Http1Upstream implements Upstream {
  private readonly agents = new Map<string, TunnelAgent>();

  constructor(private readonly open: OpenTunnel) {}

  private agentFor(endpoint: Target): TunnelAgent {
    const key = endpointKey(endpoint);
    let agent = this.agents.get(key);
    if (!agent) this.agents.set(key, (agent = new TunnelAgent(() => this.open(endpoint))));
    return agent;
  }

  call(endpoint: Target, head: UpstreamHead): UpstreamCall {
    const req = http.request({ method: head.method, path: head.path, headers: { ...head.headers, host: head.authority }, setHost: false, agent: this.agentFor(endpoint) });
    const result = new Promise<UpstreamResult>((resolve) => {
      req.on('response', (res) => {
        res.on('error', () => undefined); // surfaced to the reader as a premature close
        resolve({ ok: true, response: { status: res.statusCode ?? 502, headers: res.headers, body: res, trailers: () => res.trailers } });
      });
      // A connect failure surfaces as the request's 'error' before any response (TunnelAgent).
      req.on('error', (err: Error & { code?: string }) =>
        resolve(err instanceof AmbitError ? { ok: false, kind: 'connect-failure', message: err.message } : { ok: false, kind: 'reset', message: err.code ?? err.message }),
      );
    });
    return { body: req, result, abort: () => req.destroy() };
  }
}

/**
 * HTTP/2 upstream: one multiplexed connection per endpoint, reopened when it
 * goes away. The body sink exists at once; it is joined to the stream when
 * the connection is ready.
 */
export class Http2Upstream implements Upstream {
  private readonly sessions = new Map<string, Promise<Result<http2.ClientHttp2Session, Error>>>();

  constructor(
    private readonly open: OpenTunnel,
    private readonly log: Logger,
  ) {}

  private session(endpoint: Target): Promise<Result<http2.ClientHttp2Session, Error>> {
    const key = endpointKey(endpoint);
    let session = this.sessions.get(key);
    if (!session) {
      session = this.open(endpoint).then((opened): Result<http2.ClientHttp2Session, Error> => {
        if (!opened.ok) {
          this.sessions.delete(key);
          return opened;
        }
        const s = http2.connect(`http://${key}`, { createConnection: () => opened.value as never });
        const forget = () => {
          if (this.sessions.get(key) === session) this.sessions.delete(key);
        };
        s.on('close', forget);
        s.on('goaway', forget);
        s.on('error', (err: Error) => {
          forget();
          this.log.info({ endpoint: key, err: err.message }, 'upstream HTTP/2 connection failed');
        });
        return { ok: true, value: s };
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  call(endpoint: Target, head: UpstreamHead): UpstreamCall {
    const body = new PassThrough();
    let stream: http2.ClientHttp2Stream | undefined;
    let aborted = false;
    const result = this.session(endpoint).then(
      (s) =>
        new Promise<UpstreamResult>((resolve) => {
          if (!s.ok) return resolve({ ok: false, kind: 'connect-failure', message: s.error.message });
          if (aborted) return resolve({ ok: false, kind: 'reset', message: 'abandoned' });
          try {
            stream = s.value.request({ ':method': head.method, ':path': head.path, ':authority': head.authority, ...head.headers });
          } catch (err) {
            return resolve({ ok: false, kind: 'refused-stream', message: (err as Error).message });
          }
          const up = stream;
          let trailers: http.IncomingHttpHeaders = {};
          up.on('trailers', (t: http.IncomingHttpHeaders) => (trailers = t));
          up.on('response', (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) =>
            resolve({ ok: true, response: { status: Number(h[':status'] ?? 502), headers: h, body: up, trailers: () => trailers } }),
          );
          up.on('error', (err: Error & { code?: string }) => resolve({ ok: false, kind: up.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'refused-stream' : 'reset', message: err.message }));
          up.on('close', () => resolve({ ok: false, kind: up.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'refused-stream' : 'reset', message: `stream closed (code ${up.rstCode})` }));
          body.pipe(up);
        }),
    );
    return {
      body,
      result,
      abort: () => {
        aborted = true;
        body.destroy();
        if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }
}

/**
 * An HTTP agent whose connections are tunnels to one endpoint, kept alive between requests
 * (the upstream closes them when idle). Node's HTTP client writes its request head as a string,
 * and an HTTP/2 stream (an HBONE tunnel) does not keep such a write's bytes alive until they
 * are sent (the head arrived corrupted), so the client writes to an in-process pair that hands
 * the tunnel Buffers. The pair is no socket: keep-alive needs none of a socket's knobs.
 */
export class TunnelAgent extends http.Agent {
  constructor(private readonly openTunnel: () => Promise<Result<Duplex, Error>>) {
    super({ keepAlive: true, maxFreeSockets: 32 });
  }

  override createConnection(_options: unknown, callback: (err: Error | null, stream?: Duplex) => void): Duplex {
    this.openTunnel().then(
      (opened) => {
        if (!opened.ok) return callback(opened.error instanceof AmbitError ? opened.error : new AmbitError('AMBIT_ERR_UPSTREAM_CONNECT', opened.error.message));
        const [clientSide, tunnelSide] = duplexPair();
        void splice(opened.value, tunnelSide);
        // The upstream closed it (idle, or `connection: close`): gone for good, so the agent drops it.
        clientSide.once('end', () => clientSide.destroy());
        callback(null, clientSide);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
    return undefined as unknown as Duplex; // the connection comes through the callback
  }

  override keepSocketAlive(): boolean {
    return true;
  }

  override reuseSocket(): void {}
}
