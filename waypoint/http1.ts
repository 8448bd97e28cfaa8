import http from 'node:http';
import type { Duplex } from 'node:stream';
import { AmbitError, type Result } from '../lib/errors.js';
import { splice } from '../lib/hbone/index.js';
import type { Logger } from '../lib/log.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import type { HttpConnection, RequestGate, RequestLine } from './requests.js';
import { duplexPair } from './pair.js';

export interface Http1ProxyOptions {
  /** Authorizes, picks the endpoint, counts and logs (shared with HTTP/2). */
  gate: RequestGate;
  /** A byte stream to an endpoint: HBONE to its node agent, or plain TCP outside the mesh. */
  open(endpoint: Target): Promise<Result<Duplex, Error>>;
  log: Logger;
}

/** Hop-by-hop headers (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization']);

/**
 * HTTP/1.1 through the waypoint: each request is authorized with its method,
 * path, host and headers, sent to an endpoint of its own (so requests of one
 * connection spread over the endpoints), and counted and logged once. An
 * upgrade (WebSocket) is authorized like a request, then its bytes pass
 * through. Malformed HTTP gets 400 and closes that connection only.
 */
export class Http1Proxy {
  private readonly server: http.Server;
  private readonly connections = new WeakMap<Duplex, HttpConnection>();
  /** Kept-alive upstream connections, by endpoint `ip:port`. */
  private readonly agents = new Map<string, TunnelAgent>();

  constructor(private readonly o: Http1ProxyOptions) {
    this.server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, (req, res) => void this.request(req, res));
    // A client that half-closes after its request (its FIN crosses the tunnel as END_STREAM)
    // still gets the answer: Node's default aborts requests in flight on the FIN.
    (this.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    this.server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      o.log.info({ err: err.code ?? err.message }, 'malformed HTTP from a client: 400, connection closed');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  private agentFor(endpoint: Target): TunnelAgent {
    const key = `${endpoint.ip}:${endpoint.port}`;
    let agent = this.agents.get(key);
    if (!agent) this.agents.set(key, (agent = new TunnelAgent(() => this.o.open(endpoint))));
    return agent;
  }

  /** Serves a downstream connection whose first bytes looked like HTTP/1.x. */
  serve(downstream: Duplex, c: HttpConnection): void {
    this.connections.set(downstream, c);
    this.server.emit('connection', downstream);
  }

  private connection(req: http.IncomingMessage): HttpConnection | undefined {
    return this.connections.get(req.socket as unknown as Duplex);
  }

  /** The endpoint for `req` if the gate lets it through; otherwise `refuse` has answered. */
  private admit(req: http.IncomingMessage, c: HttpConnection, refuse: (status: number, body: string, flags: string, endpoint?: Target, policy?: string) => void): Target | undefined {
    const a = this.o.gate.admit(line(req), c);
    if (a.ok) return a.endpoint;
    refuse(a.status, a.body, a.flags, a.endpoint, a.policy);
    return undefined;
  }

  private async request(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const c = this.connection(req);
    if (!c) {
      res.writeHead(500).end();
      return;
    }
    let requestBytes = 0;
    let responseBytes = 0;
    const done = (code: number, flags: string, endpoint: Target | undefined, extra: Record<string, unknown> = {}) =>
      this.report(c, req, code, flags, endpoint, Date.now() - started, requestBytes, responseBytes, extra);
    const deny = (status: number, body: string, flags: string, endpoint?: Target, policy?: string) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
      responseBytes = Buffer.byteLength(body);
      req.resume();
      done(status, flags, endpoint, policy ? { policy } : {});
    };
    const endpoint = this.admit(req, c, deny);
    if (!endpoint) return;
    // Upstream connections are kept alive and reused per endpoint (TunnelAgent); a connect
    // failure surfaces as the request's 'error' before any response.
    const upstream = http.request({
      method: req.method,
      path: req.url,
      headers: forwardable(req.headers),
      setHost: false,
      agent: this.agentFor(endpoint),
    });    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
      up.on('data', (d: Buffer) => (responseBytes += d.length));
      up.pipe(res, { end: false });
      up.on('end', () => {
        if (Object.keys(up.trailers).length > 0) res.addTrailers(up.trailers);
        res.end();
        done(up.statusCode ?? 502, '-', endpoint);
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err: Error & { code?: string }) => {
      if (res.headersSent) {
        res.destroy();
        done(res.statusCode, 'UR', endpoint, { error: err.code ?? err.message });
      } else if (err instanceof AmbitError) deny(503, `upstream connect error: ${err.message}\n`, 'UF', endpoint);
      else deny(502, `upstream reset: ${err.code ?? err.message}\n`, 'UR', endpoint);
    });
    // Counted from here: a listener added earlier would start the body flowing before anything takes it.
    req.on('data', (d: Buffer) => (requestBytes += d.length));
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  /** An upgrade (WebSocket and the like): authorized as a request, then passed through as bytes. */
  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = Date.now();
    const c = this.connection(req);
    if (!c) return void socket.destroy();
    const refuse = (status: number, body: string, flags: string, endpoint?: Target, policy?: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      this.report(c, req, status, flags, endpoint, Date.now() - started, 0, Buffer.byteLength(body), policy ? { policy } : {});
    };
    const endpoint = this.admit(req, c, refuse);
    if (!endpoint) return;
    const opened = await this.o.open(endpoint);
    if (!opened.ok) return refuse(503, `upstream connect error: ${opened.error.message}\n`, 'UF', endpoint);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    opened.value.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
    if (head.length > 0) opened.value.write(head);
    const r = await splice(opened.value, socket);
    this.report(c, req, 101, r.error ? 'UR' : '-', endpoint, Date.now() - started, r.socketToStream, r.streamToSocket);
  }

  private report(c: HttpConnection, req: http.IncomingMessage, code: number, flags: string, endpoint: Target | undefined, durationMs: number, requestBytes: number, responseBytes: number, extra: Record<string, unknown> = {}): void {
    this.o.gate.report(c, line(req), { code, flags, endpoint, durationMs, requestBytes, responseBytes, extra });
  }
}

/** What the gate reads of an HTTP/1.1 request. */
function line(req: http.IncomingMessage): RequestLine {
  return { protocol: 'http/1.1', method: req.method ?? '', path: req.url ?? '/', authority: req.headers.host ?? '', headers: req.headers };
}

/** A header set without hop-by-hop headers (and those `Connection` names). */
function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

/**
 * An HTTP agent whose connections are tunnels to one endpoint, kept alive between requests
 * (the upstream closes them when idle). Node's HTTP client writes its request head as a string,
 * and an HTTP/2 stream (an HBONE tunnel) does not keep such a write's bytes alive until they
 * are sent (the head arrived corrupted), so the client writes to an in-process pair that hands
 * the tunnel Buffers. The pair is no socket: keep-alive needs none of a socket's knobs.
 */
class TunnelAgent extends http.Agent {
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
