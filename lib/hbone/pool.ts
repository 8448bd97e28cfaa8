/**
 * The HBONE client: a pool of multiplexed HTTP/2 sessions, one group per (source identity,
 * peer address, SNI, expected server identity), like ztunnel's WorkloadKey pool. A CONNECT
 * goes on a session of its group with room (fewer than `maxStreamsPerSession` streams, and
 * within the peer's SETTINGS_MAX_CONCURRENT_STREAMS); otherwise a new session is opened.
 * A session that got GOAWAY, failed or closed leaves the group; one whose source certificate
 * has rotated drains (its streams go on, new ones use a new session); an idle one closes: a
 * spare one (another of its group is up) soon, the last one after the idle timeout.
 */
import type { X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { AmbitError, fail, type Result } from '../errors.js';
import { DEFAULT_TRUST_DOMAIN, type SpiffeId } from '../identity/spiffe.js';
import type { WorkloadTlsMaterial } from '../identity/verify.js';
import { logger, type Logger } from '../log.js';
import { formatAuthority, parseAuthority } from './authority.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  DEFAULT_SPARE_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS_PER_SESSION,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  REASON_HEADER,
} from './constants.js';
import { HboneError, responseError } from './errors.js';
import { PooledSession, materialKey, type SessionState } from './session.js';

export interface HbonePoolOptions {
  /** Trust domain of server identities (default cluster.local). */
  trustDomain?: string;
  /** Streams per session before another session is opened (default 100). */
  maxStreamsPerSession?: number;
  /** TCP + TLS + HTTP/2 setup deadline per session. */
  connectTimeoutMs?: number;
  /** Deadline for the peer's answer to a CONNECT (it authorizes and connects upstream first). */
  responseTimeoutMs?: number;
  /** A session without streams for this long is closed. */
  idleTimeoutMs?: number;
  /** ...or for this long, when another session to the same peer for the same identity is up. */
  spareIdleTimeoutMs?: number;
  /**
   * The address sessions connect from. A node agent connects from its node's InternalIP,
   * the address its peers check a tunnel's claimed source against; without it the kernel
   * picks, and toward a pod of its own node that is the pod network's gateway.
   */
  localAddress?: string;
  /** Logger (default: `logger('hbone', 'pool')`). */
  log?: Logger;
}

/** One tunnel to open. */
export interface HboneConnectRequest {
  /** SPIFFE ID of the workload the tunnel is opened for; sessions are never shared between identities. */
  sourceIdentity: string;
  /** That workload's current key and certificate; read on every connect, so rotation is picked up. */
  sourceTls: () => WorkloadTlsMaterial;
  /** The final destination, `ip:port` (`[v6]:port`), sent as `:authority`. */
  destination: string;
  /** The HBONE peer, `nodeIp:15008` (or a waypoint). */
  via: string;
  /** Accept the server only with one of these SPIFFE IDs (otherwise any identity of the trust domain). */
  expectedServerIdentity?: string | readonly string[];
  /** SNI to send, telling the peer which identity to present (default: none). */
  serverName?: string;
  /** Extra request headers (e.g. `forwarded`, `baggage`, `traceparent`). */
  headers?: Readonly<Record<string, string>>;
  /**
   * Spread this peer's tunnels over this many sessions (TCP connections), in turn, instead of
   * filling one before opening the next: a peer that serves each connection on one of several
   * threads (a waypoint's workers share their port with SO_REUSEPORT) then gets work on all of
   * them, where one pooled session would pin everything to one thread (istio#51305). Default 1.
   */
  lanes?: number;
}

/** An open tunnel. */
export interface HboneTunnel {
  /**
   * The tunnelled byte stream. `end()` half-closes (END_STREAM); `'end'` is the peer's half-close;
   * `destroy()` resets it (RST_STREAM). A failure shows as `'error'` and as `'close'` with
   * `stream.errored` set; the pool already listens for `'error'`, so an unhandled one cannot crash.
   */
  readonly stream: Duplex;
  /** The verified SPIFFE identity of the HBONE server. */
  readonly serverIdentity: SpiffeId;
  /** The server's leaf certificate. */
  readonly serverCertificate: X509Certificate | undefined;
  /** Id of the pooled session carrying it (see `stats()`). */
  readonly sessionId: number;
}

/** One session, as `stats()` shows it. */
export interface HboneSessionStats {
  /** Pool-unique session number (also `HboneTunnel.sessionId`). */
  readonly id: number;
  /** The peer address, `ip:port`. */
  readonly via: string;
  /** The source workload identity the session was opened for. */
  readonly sourceIdentity: string;
  /** SNI sent to the peer, if any. */
  readonly serverName: string | undefined;
  /** The verified identity of the peer, once connected. */
  readonly serverIdentity: string | undefined;
  /** connecting -> ready -> draining -> closed. */
  readonly state: SessionState;
  /** Streams open (or reserved) on it now. */
  readonly activeStreams: number;
  /** Streams it has carried since it opened. */
  readonly totalStreams: number;
  /** Its current stream cap (pool setting, lowered by the peer's SETTINGS). */
  readonly maxStreams: number;
  /** Serial of the source certificate it was opened with. */
  readonly sourceCertSerial: string | undefined;
}

export interface HbonePoolStats {
  /** Sessions not yet closed (connecting, ready or draining). */
  readonly sessions: readonly HboneSessionStats[];
  /** Sessions opened since the pool was created. */
  readonly sessionsOpened: number;
  /** Tunnels established (200) since the pool was created. */
  readonly tunnelsOpened: number;
}

const MAX_ATTEMPTS = 3;
/** Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2), plus what the pool sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host']);
const REFUSED = http2.constants.NGHTTP2_REFUSED_STREAM;

export class HbonePool {
  readonly #opts: Required<Omit<HbonePoolOptions, 'log' | 'localAddress'>> & { log: Logger; localAddress: string | undefined };
  readonly #groups = new Map<string, PooledSession[]>();
  readonly #all = new Set<PooledSession>();
  #nextId = 1;
  /** Turns through the lanes of peers that ask for several (`HboneConnectRequest.lanes`). */
  #nextLane = 0;
  #tunnelsOpened = 0;
  #closed = false;

  constructor(opts: HbonePoolOptions = {}) {
    const max = opts.maxStreamsPerSession ?? DEFAULT_MAX_STREAMS_PER_SESSION;
    if (!(Number.isInteger(max) && max >= 1)) throw new AmbitError('AMBIT_ERR_CONFIG', `maxStreamsPerSession must be a positive integer, got ${max}`);
    this.#opts = {
      trustDomain: opts.trustDomain ?? DEFAULT_TRUST_DOMAIN,
      maxStreamsPerSession: max,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      responseTimeoutMs: opts.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_POOL_IDLE_TIMEOUT_MS,
      spareIdleTimeoutMs: opts.spareIdleTimeoutMs ?? DEFAULT_SPARE_IDLE_TIMEOUT_MS,
      localAddress: opts.localAddress,
      log: opts.log ?? logger('hbone', 'pool'),
    };
  }

  /**
   * Opens a tunnel to `req.destination` through `req.via`. Expected failures are values:
   * AMBIT_ERR_HBONE_CONNECT (peer unreachable), AMBIT_ERR_HBONE_TLS (certificate refused by
   * either side, `reason` says why), AMBIT_ERR_HBONE_DENIED (401/403, `reason` from the peer),
   * AMBIT_ERR_HBONE_UPSTREAM (503), AMBIT_ERR_HBONE_PROTOCOL (anything else).
   * Throws AmbitError for a malformed `destination`, `via` or header name (a caller bug).
   */
  async connect(req: HboneConnectRequest): Promise<Result<HboneTunnel, HboneError>> {
    const dest = parseAuthority(req.destination);
    if (!dest.ok) throw new AmbitError('AMBIT_ERR_CONFIG', `HBONE destination: ${dest.error.message}`);
    const via = parseAuthority(req.via);
    if (!via.ok) throw new AmbitError('AMBIT_ERR_CONFIG', `HBONE via: ${via.error.message}`);
    for (const name of Object.keys(req.headers ?? {})) {
      if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || HOP_BY_HOP.has(name)) throw new AmbitError('AMBIT_ERR_CONFIG', `HBONE request header ${JSON.stringify(name)} is not allowed`);
    }
    const authority = formatAuthority(dest.value.host, dest.value.port);
    const viaText = formatAuthority(via.value.host, via.value.port);
    const expected =
      req.expectedServerIdentity === undefined
        ? undefined
        : typeof req.expectedServerIdentity === 'string'
          ? [req.expectedServerIdentity]
          : [...req.expectedServerIdentity];
    const lanes = Math.max(1, Math.floor(req.lanes ?? 1));
    const lane = lanes > 1 ? `|lane ${this.#nextLane++ % lanes}` : '';
    const key = [req.sourceIdentity, viaText, req.serverName ?? '', (expected ?? []).slice().sort().join(',')].join('|') + lane;

    let last: HboneError | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (this.#closed) return fail(new HboneError('AMBIT_ERR_HBONE_CONNECT', 'the HBONE pool is closed'));
      const material = req.sourceTls();
      const session = this.#acquire(key, material, () => ({
        sourceIdentity: req.sourceIdentity,
        via: via.value,
        viaText,
        serverName: req.serverName,
        expectedServerIdentity: expected,
      }));
      const ready = await session.ready;
      if (!ready.ok) {
        session.release();
        return ready;
      }
      const r = await this.#open(session, authority, req.headers);
      if (r.ok) return r;
      if (!r.retry) return fail(r.error);
      last = r.error;
      this.#opts.log.debug({ session: session.params.id, attempt, err: r.error.message }, 'HBONE stream refused before processing; retrying on another session');
    }
    return fail(last!);
  }

  /** The pool's sessions and counters. */
  stats(): HbonePoolStats {
    return {
      sessions: [...this.#all].map((s) => ({
        id: s.params.id,
        via: s.params.viaText,
        sourceIdentity: s.params.sourceIdentity,
        serverName: s.params.serverName,
        serverIdentity: s.serverIdentity?.uri,
        state: s.state,
        activeStreams: s.activeStreams,
        totalStreams: s.totalStreams,
        maxStreams: s.maxStreams,
        sourceCertSerial: s.sourceCertSerial,
      })),
      sessionsOpened: this.#nextId - 1,
      tunnelsOpened: this.#tunnelsOpened,
    };
  }

  /**
   * Closes every session: with `drainMs` > 0, open streams may finish for that long (GOAWAY
   * first); then everything left is reset. Later `connect` calls fail.
   */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    this.#closed = true;
    const all = [...this.#all];
    const gone = all.map((s) => (s.state === 'closed' ? Promise.resolve() : new Promise<void>((r) => s.h2.once('close', () => r()))));
    if ((opts.drainMs ?? 0) > 0) {
      all.forEach((s) => s.drain('pool closing'));
      const t = setTimeout(() => all.forEach((s) => s.destroy()), opts.drainMs);
      await Promise.all(gone);
      clearTimeout(t);
    } else {
      all.forEach((s) => s.destroy());
      await Promise.all(gone);
    }
  }

  #acquire(
    key: string,
    material: WorkloadTlsMaterial,
    describe: () => Pick<PooledSession['params'], 'sourceIdentity' | 'via' | 'viaText' | 'serverName' | 'expectedServerIdentity'>,
  ): PooledSession {
    const mk = materialKey(material);
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = []));
    for (const s of [...group]) {
      if (s.materialKey !== mk) {
        s.drain('source certificate rotated');
        this.#forget(s);
      }
    }
    let session = group.find((s) => s.hasRoom());
    if (!session) {
      session = new PooledSession({
        ...describe(),
        id: this.#nextId++,
        key,
        material,
        trustDomain: this.#opts.trustDomain,
        maxStreams: this.#opts.maxStreamsPerSession,
        connectTimeoutMs: this.#opts.connectTimeoutMs,
        idleTimeoutMs: this.#opts.idleTimeoutMs,
        spareIdleTimeoutMs: this.#opts.spareIdleTimeoutMs,
        localAddress: this.#opts.localAddress,
        isSpare: (s) => this.#groups.get(key)?.some((o) => o !== s && o.state === 'ready') ?? false,
        log: this.#opts.log,
        onClosed: (s) => {
          this.#forget(s);
          this.#all.delete(s);
        },
      });
      group.push(session);
      this.#all.add(session);
    }
    session.reserve();
    return session;
  }

  /** Removes a session from its group (it takes no new streams); it stays in `stats()` until closed. */
  #forget(s: PooledSession): void {
    const group = this.#groups.get(s.params.key);
    if (!group) return;
    const i = group.indexOf(s);
    if (i >= 0) group.splice(i, 1);
    if (group.length === 0) this.#groups.delete(s.params.key);
  }

  /** One CONNECT on a ready session whose slot is reserved; releases the slot when the stream ends. */
  #open(
    session: PooledSession,
    authority: string,
    headers: Readonly<Record<string, string>> | undefined,
  ): Promise<{ ok: true; value: HboneTunnel } | { ok: false; error: HboneError; retry: boolean }> {
    const via = session.params.viaText;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.h2.request({ ...headers, ':method': 'CONNECT', ':authority': authority }, { endStream: false });
    } catch (err) {
      session.release();
      if (!session.h2.closed && !session.h2.destroyed) throw err; // not the session: a caller bug (headers)
      this.#forget(session);
      const e = new HboneError('AMBIT_ERR_HBONE_PROTOCOL', `HBONE session to ${via} cannot take a stream (${(err as Error).message})`, { cause: err });
      return Promise.resolve({ ok: false, error: session.error ?? e, retry: true });
    }
    // Errors also show as 'close' with `stream.errored`; this listener keeps an error that
    // arrives before the caller has attached its own from crashing the agent.
    stream.on('error', (err: Error) => this.#opts.log.debug({ session: session.params.id, err: err.message }, 'HBONE stream error'));
    stream.once('close', () => {
      // destroy() sends RST_STREAM even with code NO_ERROR: only a stream ended both ways closed without one.
      const clean = stream.rstCode === http2.constants.NGHTTP2_NO_ERROR && stream.writableEnded && stream.readableEnded;
      if (!clean) session.noteReset();
      session.release();
    });

    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: { ok: true; value: HboneTunnel } | { ok: false; error: HboneError; retry: boolean }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stream.off('response', onResponse);
        stream.off('error', onError);
        stream.off('close', onClose);
        if (!r.ok) {
          // After a refusal the peer has ended its side: end ours (a RST would count against its reset guard).
          if (r.error.status !== undefined) stream.end().resume();
          else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
        }
        resolve(r);
      };
      const onResponse = (h: http2.IncomingHttpHeaders): void => {
        const status = Number(h[':status']);
        if (status === 200) {
          this.#tunnelsOpened++;
          finish({ ok: true, value: { stream, serverIdentity: session.serverIdentity!, serverCertificate: session.serverCertificate, sessionId: session.params.id } });
          return;
        }
        const reason = h[REASON_HEADER];
        finish({ ok: false, error: responseError(status, typeof reason === 'string' ? reason : undefined, authority, via), retry: false });
      };
      const failed = (why: string, cause?: { code?: string }): void => {
        if (settled) return;
        // A dying session closes its streams before it records why: let that happen first.
        if (session.h2.destroyed || session.h2.closed) void session.closed.then(() => decide(why, cause));
        else setImmediate(() => decide(why, cause));
      };
      const decide = (why: string, cause?: { code?: string }): void => {
        const e =
          session.error ??
          new HboneError('AMBIT_ERR_HBONE_PROTOCOL', `HBONE CONNECT ${authority} via ${via} failed before a response: ${why}`, { cause });
        // REFUSED_STREAM, or a GOAWAY that excluded the stream: the peer did not process it, so
        // retrying is safe. So is a CONNECT whose session died before any answer (the peer agent
        // killed, its socket reset): nothing goes into a tunnel before its 200, so a peer that did
        // dial the destination leaves a connection that dies with the stream, as Envoy's TCP proxy
        // retries a tunnel that was not established (max_connect_attempts). The retry meets the
        // dead peer's refused port, which the caller waits out (node-agent/proxy/outbound.ts).
        const sessionDied = session.h2.destroyed || session.h2.closed;
        const unprocessed = stream.rstCode === REFUSED || cause?.code === 'ERR_HTTP2_GOAWAY_SESSION' || session.unprocessed(stream.id) || sessionDied;
        finish({ ok: false, error: e, retry: unprocessed && (session.error === undefined || session.error.code === 'AMBIT_ERR_HBONE_PROTOCOL') });
      };
      const onError = (err: Error & { code?: string }): void => failed(err.code ?? err.message, err);
      const onClose = (): void => failed(`stream closed (RST code ${stream.rstCode ?? 'none'})`);
      const timer = setTimeout(() => failed(`no response within ${this.#opts.responseTimeoutMs} ms`), this.#opts.responseTimeoutMs);
      stream.once('response', onResponse);
      stream.once('error', onError);
      stream.once('close', onClose);
    });
  }
}
