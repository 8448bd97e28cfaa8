import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../lib/log.js';
import type { Exchange, ServerResponse } from './exchange.js';
import type { HttpConnection } from './requests.js';

export interface Http2ProxyOptions {
  /** Routes, resilience, forwarding (shared with HTTP/1.1). */
  exchange: Exchange;
  log: Logger;
}

/**
 * HTTP/2 with prior knowledge (h2c: what gRPC and other HTTP/2 clients send inside the mesh,
 * where the tunnel already is mutual TLS) through the waypoint. Each stream is a request for the
 * exchange; upstream it goes on an HTTP/2 connection the waypoint keeps per endpoint
 * (upstream.ts). Trailers pass through (gRPC's `grpc-status` lives there), and so do deadlines
 * (`grpc-timeout` is a header); a reset on either side resets the other.
 */
export class Http2Proxy {
  constructor(private readonly o: Http2ProxyOptions) {}

  /** Serves a downstream connection that opened with the HTTP/2 preface. */
  serve(downstream: Duplex, c: HttpConnection): void {
    // One server object per connection: its handler knows whose connection it is.
    const server = http2.createServer({ maxSessionMemory: 64 }, (req, res) => void this.o.exchange.handle('h2', req, res, c));
    server.on('sessionError', (err: Error) => this.o.log.info({ err: err.message, principal: c.principal }, 'HTTP/2 session error from a client'));
    server.emit('connection', downstream);
  }
}

/** Resets a request whose response has started: HTTP/2 resets the stream, HTTP/1.1 closes the connection. */
export function resetResponse(res: ServerResponse): void {
  if (res instanceof http2.Http2ServerResponse) {
    if (!res.stream.closed) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  } else res.destroy();
}
