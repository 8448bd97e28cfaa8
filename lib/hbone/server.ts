/**
 * The HBONE server (port 15008): HTTP/2 CONNECT over mutual TLS 1.3. Each TLS connection is
 * one HTTP/2 session from one peer (a node agent or waypoint, identified by its verified
 * SPIFFE certificate); each stream is one tunnelled TCP connection to `:authority`.
 *
 * Per stream: CONNECT only (405), `:authority` is `ip:port` (400), `authorize` (401/403 with
 * a reason header, no upstream connect), `connectUpstream` (503 with the reason), then 200
 * and bytes both ways with backpressure and half-close (see splice.ts).
 *
 * Which certificate the server presents is the caller's choice per connection (`tls`, called
 * with the SNI the client sent): a node agent presents the destination workload's identity,
 * as ztunnel does. Contexts are cached per certificate, so rotating is returning new
 * material: new handshakes use it, established sessions keep theirs.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { AmbitError, type Result } from '../errors.js';
import { DEFAULT_TRUST_DOMAIN, type SpiffeId } from '../identity/spiffe.js';
import { classifyTlsFailure, leafIdentity, peerIdentity, type WorkloadTlsMaterial } from '../identity/verify.js';
import { logger, type Logger } from '../log.js';
import { formatAuthority, parseAuthority, type HostPort } from './authority.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SERVER_MAX_STREAMS,
  DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
  H2_TUNING,
  HBONE_PORT,
  REASON_HEADER,
} from './constants.js';
import { SecureContextCache } from './contexts.js';
import { sanitizeReason } from './errors.js';
import { splice } from './splice.js';
import { connectTcp } from './upstream.js';

/** One CONNECT request, as authorization and upstream selection see it. */
export interface TunnelRequest {
  /** The peer's SPIFFE identity, from its verified client certificate. */
  readonly peer: SpiffeId;
  /** The peer's leaf certificate (serial, validity) for logs. */
  readonly peerCertificate: X509Certificate;
  /** Where the tunnel goes (`:authority`). */
  readonly destination: HostPort;
  /** `:authority` in canonical form. */
  readonly authority: string;
  /** The TCP source of the HBONE connection (the peer node or waypoint). */
  readonly sourceAddress: { readonly address: string; readonly port: number };
  /** The SNI the peer sent ('' when none), i.e. whose certificate this server presented. */
  readonly servername: string;
  /** All request headers (e.g. `forwarded`, `baggage`, `traceparent`). */
  readonly headers: http2.IncomingHttpHeaders;
}

/** The verdict of `authorize`. */
export type AuthzDecision = AuthzAllow | AuthzDeny;

/** Let the tunnel through. */
export interface AuthzAllow {
  /** Always true. */
  readonly allow: true;
}

/** Refuse the tunnel; nothing is connected upstream. */
export interface AuthzDeny {
  /** Always false. */
  readonly allow: false;
  /** 403 (default: a policy denies it) or 401 (the peer's identity is not acceptable at all). */
  readonly status?: 401 | 403;
  /** Sent to the peer in the `ambit-reason` header (e.g. the policy that denied). */
  readonly reason: string;
}

/** What happened to one stream, reported when it is over (for metrics and access logs). */
export interface TunnelRecord {
  /** The request, absent when the stream was refused before it could be parsed (400/405). */
  readonly request: TunnelRequest | undefined;
  /** The status the server answered (200 for an established tunnel). */
  readonly status: number;
  /** Why it was refused or how it failed. */
  readonly reason: string | undefined;
  /** Bytes from the peer to the destination. */
  readonly bytesFromPeer: number;
  /** Bytes from the destination to the peer. */
  readonly bytesToPeer: number;
  /** From the stream's arrival until both sides of the tunnel closed. */
  readonly durationMs: number;
}

export interface HboneServerOptions {
  /** Address to listen on. */
  host: string;
  /** Port to listen on (15008; 0 in tests). */
  port?: number;
  /** A socket already bound to host:port to listen on instead (e.g. one shared with SO_REUSEPORT). */
  handle?: { fd: number };
  /**
   * The material to present on a new connection, chosen by the SNI the client sent
   * (`''` when it sent none). Called per handshake; return the same object while the
   * certificate is unchanged (contexts are cached per certificate). Return undefined to
   * refuse the handshake (no identity for that name). A promise (the certificate is being
   * fetched) holds the handshake until it settles; the default context (no SNI) only
   * takes material at hand.
   */
  tls: (servername: string) => WorkloadTlsMaterial | undefined | Promise<WorkloadTlsMaterial | undefined>;
  /** Trust domain of peer identities (default cluster.local). */
  trustDomain?: string;
  /** L4 authorization of one tunnel. A thrown error is a bug: the stream gets 500. */
  authorize: (req: TunnelRequest) => AuthzDecision | Promise<AuthzDecision>;
  /**
   * Opens the destination side (default: TCP connect to `req.destination`). The Duplex must
   * support half-close (for a net.Socket: `allowHalfOpen: true`). An error value gives 503.
   */
  connectUpstream?: (req: TunnelRequest, signal: AbortSignal) => Promise<Result<Duplex, Error>>;
  /** Called once per stream when it is over. Must not throw. */
  onTunnelClosed?: (record: TunnelRecord) => void;
  /** Logger (default: `logger('hbone', 'server')`). */
  log?: Logger;
  /** TLS handshake deadline per TCP connection. */
  handshakeTimeoutMs?: number;
  /** A session with no streams (also: right after the handshake) is closed after this. */
  idleTimeoutMs?: number;
  /** Deadline of the default `connectUpstream`. */
  upstreamConnectTimeoutMs?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to peers. */
  maxConcurrentStreams?: number;
}

/** Counters since start, and what is open now. */
export interface HboneServerStats {
  /** Open HTTP/2 sessions (TLS connections that completed the handshake). */
  readonly sessions: number;
  /** Streams currently open (being authorized, connecting or tunnelling). */
  readonly activeStreams: number;
  /** Tunnels established (answered 200). */
  readonly tunnelsOpened: number;
  /** Streams refused (4xx/5xx). */
  readonly streamsRefused: number;
  /** TCP connections that failed the TLS handshake (garbage, bad or missing certificates, timeouts). */
  readonly handshakeFailures: number;
  /** Bytes carried from peers to destinations, over closed tunnels. */
  readonly bytesFromPeers: number;
  /** Bytes carried from destinations to peers, over closed tunnels. */
  readonly bytesToPeers: number;
}

export interface HboneServer {
  /** The bound address (resolves port 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** Counters since start, and what is open now. */
  stats(): HboneServerStats;
  /**
   * Stops accepting, sends GOAWAY to every session and lets streams finish for up to
   * `drainMs` (default 0), then destroys what is left. Resolves when everything is closed.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
}

interface SessionState {
  peer: SpiffeId;
  cert: X509Certificate;
  servername: string;
  source: { address: string; port: number };
  streams: number;
  idle: NodeJS.Timeout | undefined;
  /** The session's TLS socket, to force-close a peer that ignores GOAWAY. */
  tls: TLSSocket | undefined;
}

const fromV4Mapped = (ip: string): string => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

/** Starts an HBONE server; resolves once it is listening. Throws AMBIT_ERR_CONFIG if it cannot listen. */
export async function startHboneServer(opts: HboneServerOptions): Promise<HboneServer> {
  const log = opts.log ?? logger('hbone', 'server');
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const upstreamMs = opts.upstreamConnectTimeoutMs ?? DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS;
  const connectUpstream = opts.connectUpstream ?? ((req, signal) => connectTcp(req.destination, { timeoutMs: upstreamMs, signal }));
  const contexts = new SecureContextCache();
  const sessions = new Map<http2.ServerHttp2Session, SessionState>();
  const sockets = new Set<Socket>(); // every accepted TCP connection, to destroy on close
  const counters = { tunnelsOpened: 0, streamsRefused: 0, handshakeFailures: 0, bytesFromPeers: 0, bytesToPeers: 0, activeStreams: 0 };

  const material = (servername: string): Promise<WorkloadTlsMaterial | undefined> =>
    Promise.resolve()
      .then(() => opts.tls(servername))
      .catch((err: unknown) => {
        log.error({ err, servername }, 'the tls() provider failed; refusing the handshake');
        return undefined;
      });
  /** The material at hand now, for the default context (set synchronously, before a handshake). */
  const materialNow = (servername: string): WorkloadTlsMaterial | undefined => {
    try {
      const m = opts.tls(servername);
      return m instanceof Promise ? (m.catch(() => undefined), undefined) : m;
    } catch (err) {
      log.error({ err, servername }, 'the tls() provider threw; refusing the handshake');
      return undefined;
    }
  };
  const initial = materialNow('');
  let defaultKey = initial ? `${initial.certChainPem}\0${initial.rootPem}` : '';

  const server = http2.createSecureServer({
    ...(initial ? { key: initial.keyPem, cert: initial.certChainPem, ca: initial.rootPem } : {}),
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    allowHTTP1: false,
    unknownProtocolTimeout: 1000,
    maxSessionMemory: H2_TUNING.maxSessionMemoryMiB,
    settings: {
      maxConcurrentStreams: opts.maxConcurrentStreams ?? DEFAULT_SERVER_MAX_STREAMS,
      initialWindowSize: H2_TUNING.streamWindow,
      maxFrameSize: H2_TUNING.maxFrameSize,
      enablePush: false,
    },
    SNICallback: (servername, cb) => {
      void material(servername).then((m) => {
        if (!m) {
          cb(new AmbitError('AMBIT_ERR_HBONE_TLS', `no certificate for server name ${JSON.stringify(servername)}`), undefined);
          return;
        }
        try {
          cb(null, contexts.get(m));
        } catch (err) {
          log.error({ err, servername }, 'building the TLS context failed');
          cb(err as Error, undefined);
        }
      });
    },
  });

  // Connections without SNI use the default context: refresh it (before tls wraps the
  // socket) whenever the provider's default material has rotated.
  server.prependListener('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const m = materialNow('');
    const key = m ? `${m.certChainPem}\0${m.rootPem}` : '';
    if (m && key !== defaultKey) {
      try {
        server.setSecureContext({ key: m.keyPem, cert: m.certChainPem, ca: m.rootPem, minVersion: 'TLSv1.3' });
        defaultKey = key;
        log.info('default HBONE server certificate rotated');
      } catch (err) {
        log.error({ err }, 'the rotated default certificate is unusable; keeping the old one');
      }
    }
  });

  // Http2Session.destroy() only ends its socket and waits for the peer's FIN; a stalled peer
  // never sends it. Keep each session's TLS socket to cut it off. 'session' is emitted
  // synchronously inside http2's own 'secureConnection' listener, right after this one.
  let lastSecure: TLSSocket | undefined;
  server.prependListener('secureConnection', (s: TLSSocket) => (lastSecure = s));

  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    counters.handshakeFailures++;
    const why = classifyTlsFailure(err, socket);
    log.debug({ peer: `${socket.remoteAddress}:${socket.remotePort}`, code: err.code, reason: why?.reason }, `HBONE handshake failed: ${why?.message ?? err.message}`);
  });
  server.on('unknownProtocol', (socket: TLSSocket) => {
    log.debug({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'HBONE peer did not negotiate h2; closing');
    socket.destroy();
  });
  server.on('sessionError', (err: Error) => log.debug({ err }, 'HBONE session error'));
  server.on('error', (err: Error) => log.error({ err }, 'HBONE server error'));

  const armIdle = (session: http2.ServerHttp2Session, st: SessionState): void => {
    clearTimeout(st.idle);
    st.idle = setTimeout(() => {
      if (st.streams > 0) return;
      log.debug({ peer: st.peer.uri }, 'HBONE session idle; closing');
      session.close();
      setTimeout(() => st.tls?.destroy(), 1000).unref();
    }, idleMs);
    st.idle.unref();
  };

  server.on('session', (session: http2.ServerHttp2Session) => {
    session.on('error', (err: Error) => log.debug({ err }, 'HBONE session error'));
    const raw = lastSecure;
    lastSecure = undefined;
    const sock = session.socket as TLSSocket;
    // Read the peer certificate once (Node 20 hands out a client's peer X509Certificate only once).
    const cert = sock.authorized ? sock.getPeerX509Certificate() : undefined;
    const id = cert ? leafIdentity(cert, trustDomain) : peerIdentity(sock, trustDomain);
    if (!id.ok || !cert) {
      counters.handshakeFailures++;
      log.warn({ peer: `${sock.remoteAddress}:${sock.remotePort}`, reason: id.ok ? 'malformed' : id.error.reason }, `HBONE peer has no usable identity: ${id.ok ? 'no certificate' : id.error.message}`);
      session.destroy();
      raw?.destroy();
      return;
    }
    const st: SessionState = {
      tls: raw,
      peer: id.value,
      cert,
      servername: typeof sock.servername === 'string' ? sock.servername : '',
      source: { address: fromV4Mapped(sock.remoteAddress ?? ''), port: sock.remotePort ?? 0 },
      streams: 0,
      idle: undefined,
    };
    sessions.set(session, st);
    try {
      session.setLocalWindowSize(H2_TUNING.connectionWindow);
    } catch {
      // the session may already be closing
    }
    armIdle(session, st);
    session.once('close', () => {
      clearTimeout(st.idle);
      sessions.delete(session);
    });
    log.debug({ peer: st.peer.uri, source: st.source, servername: st.servername }, 'HBONE session up');
  });

  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const session = stream.session as http2.ServerHttp2Session | undefined;
    const st = session ? sessions.get(session) : undefined;
    stream.on('error', (err: Error) => log.debug({ err }, 'HBONE stream error'));
    if (!session || !st) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    st.streams++;
    counters.activeStreams++;
    clearTimeout(st.idle);
    const started = Date.now();
    let record: Omit<TunnelRecord, 'durationMs'> = { request: undefined, status: 0, reason: undefined, bytesFromPeer: 0, bytesToPeer: 0 };
    // The record goes out once the stream has closed and the handler (splice) has finished.
    let streamClosed = false;
    let handled = true;
    const report = (): void => {
      if (!streamClosed || !handled) return;
      if (record.status === 0) record = { ...record, status: 499, reason: record.reason ?? 'peer reset the stream before the response' };
      try {
        opts.onTunnelClosed?.({ ...record, durationMs: Date.now() - started });
      } catch (err) {
        log.error({ err }, 'onTunnelClosed threw');
      }
    };
    stream.once('close', () => {
      st.streams--;
      counters.activeStreams--;
      if (st.streams === 0 && !session.closed && !session.destroyed) armIdle(session, st);
      streamClosed = true;
      report();
    });

    const refuse = (status: number, reason: string): void => {
      counters.streamsRefused++;
      record = { ...record, status, reason };
      if (stream.destroyed || stream.closed || stream.headersSent) return;
      const h: http2.OutgoingHttpHeaders = { ':status': status, [REASON_HEADER]: sanitizeReason(reason) };
      if (status === 405) h.allow = 'CONNECT';
      try {
        stream.respond(h, { endStream: true });
      } catch (err) {
        log.debug({ err }, 'could not answer a refused stream');
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      }
    };

    if (headers[':method'] !== 'CONNECT') return refuse(405, `method ${String(headers[':method']).slice(0, 16)} not allowed: HBONE accepts only CONNECT`);
    if (headers[':protocol'] !== undefined || headers[':path'] !== undefined) return refuse(400, 'extended CONNECT is not supported');
    const dest = parseAuthority(headers[':authority']);
    if (!dest.ok) return refuse(400, dest.error.message);
    const req: TunnelRequest = {
      peer: st.peer,
      peerCertificate: st.cert,
      destination: dest.value,
      authority: formatAuthority(dest.value.host, dest.value.port),
      sourceAddress: st.source,
      servername: st.servername,
      headers,
    };
    record = { ...record, request: req };
    handled = false;
    void handle(stream, req, refuse, (r) => (record = { ...record, ...r })).finally(() => {
      handled = true;
      report();
    });
  });

  const handle = async (
    stream: http2.ServerHttp2Stream,
    req: TunnelRequest,
    refuse: (status: number, reason: string) => void,
    update: (r: Partial<TunnelRecord>) => void,
  ): Promise<void> => {
    let decision: AuthzDecision;
    try {
      decision = await opts.authorize(req);
    } catch (err) {
      log.error({ err, peer: req.peer.uri, destination: req.authority }, 'authorize threw; refusing the tunnel');
      return refuse(500, 'authorization failed on the server');
    }
    if (!decision.allow) {
      log.debug({ peer: req.peer.uri, destination: req.authority, reason: decision.reason }, 'HBONE tunnel denied');
      return refuse(decision.status ?? 403, decision.reason);
    }
    if (stream.closed || stream.destroyed) return;

    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    stream.once('close', onGone);
    let up: Result<Duplex, Error>;
    try {
      up = await connectUpstream(req, abort.signal);
    } catch (err) {
      log.error({ err, destination: req.authority }, 'connectUpstream threw');
      up = { ok: false, error: err as Error };
    }
    stream.off('close', onGone);
    if (!up.ok) {
      log.debug({ destination: req.authority, err: up.error.message }, 'HBONE upstream connect failed');
      return refuse(503, up.error.message);
    }
    const socket = up.value;
    if (stream.closed || stream.destroyed) {
      socket.destroy();
      return;
    }
    try {
      stream.respond({ ':status': 200 });
    } catch (err) {
      socket.destroy();
      log.debug({ err }, 'could not answer 200');
      return;
    }
    counters.tunnelsOpened++;
    update({ status: 200 });
    const r = await splice(stream, socket);
    counters.bytesFromPeers += r.streamToSocket;
    counters.bytesToPeers += r.socketToStream;
    update({ bytesFromPeer: r.streamToSocket, bytesToPeer: r.socketToStream, ...(r.error ? { reason: r.error.message } : {}) });
  };

  if (opts.handle) server.listen(opts.handle, 4096);
  else server.listen({ host: opts.host, port: opts.port ?? HBONE_PORT, backlog: 4096 });
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new AmbitError('AMBIT_ERR_CONFIG', `HBONE server cannot listen on ${opts.host}:${opts.port ?? HBONE_PORT} (${(err as Error).message})`, { cause: err });
  }
  const bound = server.address() as AddressInfo;
  log.info({ host: bound.address, port: bound.port }, 'HBONE server listening');

  let closing: Promise<void> | undefined;
  return {
    address: Object.freeze({ host: bound.address, port: bound.port }),
    stats: () => ({
      sessions: sessions.size,
      activeStreams: counters.activeStreams,
      tunnelsOpened: counters.tunnelsOpened,
      streamsRefused: counters.streamsRefused,
      handshakeFailures: counters.handshakeFailures,
      bytesFromPeers: counters.bytesFromPeers,
      bytesToPeers: counters.bytesToPeers,
    }),
    close: ({ drainMs = 0 } = {}) =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = [...sessions.keys()];
        const gone = all.map((s) => (s.destroyed ? Promise.resolve() : once(s, 'close').then(() => undefined)));
        const kill = (s: http2.ServerHttp2Session): void => {
          s.destroy();
          sessions.get(s)?.tls?.destroy();
        };
        for (const s of all) (drainMs > 0 ? s.close() : kill(s));
        if (drainMs > 0) {
          const t = setTimeout(() => all.forEach(kill), drainMs);
          await Promise.all(gone);
          clearTimeout(t);
        } else {
          await Promise.all(gone);
        }
        for (const s of sockets) s.destroy(); // connections still in (or failing) the handshake
        await closed;
      })()),
  };
}
