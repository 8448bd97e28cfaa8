import http from 'node:http';
import type { Duplex } from 'node:stream';
import { splice } from '../lib/hbone/index.js';
import type { Logger } from '../lib/log.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import type { HttpConnection, RequestGate, RequestLine } from './requests.js';
import type { Exchange } from './exchange.js';
import type { OpenTunnel } from './upstream.js';

export interface Http1ProxyOptions {
  /** Routes, resilience, forwarding (shared with HTTP/2). */
  exchange: Exchange;
  /** Authorizes upgrades, counts and logs them (shared with HTTP/2). */
  gate: RequestGate;
  /** A byte stream to an endpoint: HBONE to its node agent, or plain TCP outside the mesh. */
  open: OpenTunnel;
  log: Logger;
}

/**
 * HTTP/1.1 through the waypoint: each request goes through the exchange
 * (authorized, routed, sent to an endpoint of its own with the Service's
 * resilience, counted and logged once). An upgrade (WebSocket) is authorized
 * like a request, then its bytes pass through to an endpoint of the addressed
 * Service. Malformed HTTP gets 400 and closes that connection only.
 */
export class Http1Proxy {
  private readonly server: http.Server;
  private readonly connections = new WeakMap<Duplex, HttpConnection>();

  constructor(private readonly o: Http1ProxyOptions) {
    this.server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, (req, res) => {
      const c = this.connection(req);
      if (!c) return void res.writeHead(500).end();
      void o.exchange.handle('http/1.1', req, res, c);
    });
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

  /** Serves a downstream connection whose first bytes looked like HTTP/1.x. */
  serve(downstream: Duplex, c: HttpConnection): void {
    this.connections.set(downstream, c);
    this.server.emit('connection', downstream);
  }

  private connection(req: http.IncomingMessage): HttpConnection | undefined {
    return this.connections.get(req.socket as unknown as Duplex);
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
    const a = this.o.gate.admit(line(req), c);
    if (!a.ok) return refuse(a.status, a.body, a.flags, a.endpoint, a.policy);
    const endpoint = a.endpoint;
    if (a.unresolved) return refuse(503, `no healthy upstream: ${a.unresolved}\n`, 'UH');
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
