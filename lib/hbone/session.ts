/**
 * One pooled client HTTP/2 session to an HBONE peer: mutual TLS 1.3 with one source
 * workload's certificate, many CONNECT streams. The pool (pool.ts) decides which session a
 * stream goes on; this file owns the session's states:
 *
 *   connecting -> ready -> draining -> closed     (connecting -> closed on failure)
 *
 * `draining` (GOAWAY received, source certificate rotated, pool closing) takes no new streams
 * and closes once its last stream has ended; `ready` with no streams closes after the idle
 * timeout.
 */
import { X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import tls from 'node:tls';
import { fail, ok, type Result } from '../errors.js';
import type { SpiffeId } from '../identity/spiffe.js';
import {
  createTrustBundle,
  leafIdentity,
  meshClientTlsOptions,
  meshTlsOptions,
  peerIdentity,
  verifyFailureError,
  verifyPeerChain,
  type WorkloadTlsMaterial,
} from '../identity/verify.js';
import type { Logger } from '../log.js';
import type { HostPort } from './authority.js';
import { H2_TUNING, PEER_RST_BURST, PEER_RST_PER_SECOND } from './constants.js';
import { HboneError, sessionError } from './errors.js';

export type SessionState = 'connecting' | 'ready' | 'draining' | 'closed';

/** Everything a session is opened with; fixed for its lifetime. */
export interface SessionParams {
  readonly id: number;
  /** Pool key: source identity, peer address, SNI, expected server identity. */
  readonly key: string;
  readonly sourceIdentity: string;
  readonly via: HostPort;
  readonly viaText: string;
  readonly serverName: string | undefined;
  readonly expectedServerIdentity: readonly string[] | undefined;
  readonly material: WorkloadTlsMaterial;
  readonly trustDomain: string;
  readonly maxStreams: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** How long a spare session (see `isSpare`) stays without streams. */
  readonly spareIdleTimeoutMs: number;
  /** The address to connect from; undefined: the kernel's choice. */
  readonly localAddress: string | undefined;
  /** Whether another session of the same group is up to take this one's work. */
  readonly isSpare: (s: PooledSession) => boolean;
  readonly log: Logger;
  /** Called once when the session reaches `closed`. */
  readonly onClosed: (s: PooledSession) => void;
}

/** The identity of the material, to tell a rotated certificate from the current one. */
export const materialKey = (m: WorkloadTlsMaterial): string => `${m.certChainPem}\0${m.rootPem}`;

export class PooledSession {
  readonly params: SessionParams;
  readonly materialKey: string;
  /** Serial number of the source certificate this session presents. */
  readonly sourceCertSerial: string | undefined;
  readonly h2: http2.ClientHttp2Session;
  /** Resolves once the session can carry streams, or with why it cannot. */
  readonly ready: Promise<Result<void, HboneError>>;
  #state: SessionState = 'connecting';
  /** Streams open or reserved (acquired but not yet requested). */
  #active = 0;
  #total = 0;
  #maxStreams: number;
  #error: HboneError | undefined;
  #idle: NodeJS.Timeout | undefined;
  #serverIdentity: SpiffeId | undefined;
  #serverCertificate: X509Certificate | undefined;
  /** The peer sent its SETTINGS, i.e. it accepted our certificate. */
  #peerAccepted = false;
  #goawayLastStream: number | undefined;
  /** Token bucket mirroring the peer's RST_STREAM guard (see PEER_RST_BURST). */
  #rstTokens = PEER_RST_BURST;
  #rstAt = 0;
  /** The TLS socket: Http2Session.destroy() waits for the peer's FIN, a dead peer needs a hard close. */
  #tls: tls.TLSSocket | undefined;
  /** Resolves when the session has closed. */
  readonly closed: Promise<void>;

  constructor(p: SessionParams) {
    this.params = p;
    this.materialKey = materialKey(p.material);
    try {
      this.sourceCertSerial = new X509Certificate(p.material.certChainPem).serialNumber;
    } catch {
      this.sourceCertSerial = undefined; // TLS will refuse it and say why
    }
    this.#maxStreams = p.maxStreams;
    let phase: 'connect' | 'handshake' | 'session' = 'connect';
    const tlsOpts = p.expectedServerIdentity
      ? meshClientTlsOptions(p.material, p.expectedServerIdentity)
      : {
          ...meshTlsOptions(p.material),
          // Any identity of the mesh is fine, but it must be one (Node's hostname check knows no URI SANs).
          checkServerIdentity: (_host: string, cert: tls.PeerCertificate): Error | undefined => {
            const id = cert?.raw ? leafIdentity(cert.raw, p.trustDomain) : undefined;
            if (!id) return verifyFailureError({ reason: 'malformed', message: 'the server sent no certificate' });
            return id.ok ? undefined : verifyFailureError(id.error);
          },
        };
    this.h2 = http2.connect(`https://${p.viaText}`, {
      maxSessionMemory: H2_TUNING.maxSessionMemoryMiB,
      peerMaxConcurrentStreams: p.maxStreams,
      settings: { initialWindowSize: H2_TUNING.streamWindow, maxFrameSize: H2_TUNING.maxFrameSize, enablePush: false },
      createConnection: () => {
        const sock = tls.connect({
          ...tlsOpts,
          host: p.via.host,
          port: p.via.port,
          ...(p.localAddress ? { localAddress: p.localAddress } : {}),
          ...(p.serverName ? { servername: p.serverName } : {}),
          ALPNProtocols: ['h2'],
        });
        sock.setNoDelay(true);
        this.#tls = sock;
        sock.once('connect', () => (phase = 'handshake'));
        sock.once('secureConnect', () => (phase = 'session'));
        return sock;
      },
    });

    this.closed = new Promise((resolve) => this.h2.once('close', () => resolve()));
    this.ready = new Promise((resolve) => {
      const timer = setTimeout(() => {
        const e = Object.assign(new Error(`no HBONE session within ${p.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' });
        this.h2.destroy(e);
      }, p.connectTimeoutMs);
      timer.unref();
      this.h2.once('connect', () => {
        clearTimeout(timer);
        const sock = this.h2.socket as tls.TLSSocket;
        // Node 20 returns the client's peer X509Certificate only on the first call: take it once.
        const cert = sock.authorized ? sock.getPeerX509Certificate() : undefined;
        const id = cert ? leafIdentity(cert, p.trustDomain) : peerIdentity(sock, p.trustDomain);
        if (!id.ok) {
          this.h2.destroy(verifyFailureError(id.error));
          return;
        }
        this.#serverIdentity = id.value;
        this.#serverCertificate = cert;
        try {
          this.h2.setLocalWindowSize(H2_TUNING.connectionWindow);
        } catch {
          // closing already; streams will report it
        }
        // Drained while connecting: streams reserved before that still go on this session.
        if (this.#state === 'connecting') {
          this.#setState('ready');
          if (this.#active === 0) this.#armIdle();
        }
        resolve(ok(undefined));
      });
      this.h2.once('close', () => {
        clearTimeout(timer);
        resolve(fail(this.#error ?? new HboneError('AMBIT_ERR_HBONE_CONNECT', `HBONE session to ${p.viaText} closed before it was up`)));
      });
    });

    this.h2.on('error', (err: Error & { code?: string }) => {
      this.#error ??= sessionError(err, p.viaText, phase);
      p.log.debug({ session: p.id, via: p.viaText, code: this.#error.code, reason: this.#error.reason }, this.#error.message);
    });
    this.h2.once('remoteSettings', () => (this.#peerAccepted = true));
    this.h2.on('remoteSettings', (s: http2.Settings) => {
      if (s.maxConcurrentStreams !== undefined) this.#maxStreams = Math.max(1, Math.min(p.maxStreams, s.maxConcurrentStreams));
    });
    this.h2.on('goaway', (code: number, lastStreamID: number) => {
      this.#goawayLastStream = lastStreamID;
      this.#error ??= new HboneError('AMBIT_ERR_HBONE_PROTOCOL', `HBONE peer ${p.viaText} sent GOAWAY (code ${code})`);
      this.drain('peer sent GOAWAY');
    });
    this.h2.once('close', () => {
      if (!this.#error && phase === 'session' && !this.#peerAccepted) {
        // TLS 1.3: our certificate is checked after our side finished the handshake, and a Node
        // peer that rejects it just closes the connection, before its HTTP/2 SETTINGS.
        this.#error = new HboneError(
          'AMBIT_ERR_HBONE_TLS',
          `HBONE peer ${p.viaText} closed the connection right after the TLS handshake: it refused our certificate (${diagnoseOwnCertificate(p.material, p.trustDomain)})`,
          { reason: 'rejected-by-peer' },
        );
      }
      clearTimeout(this.#idle);
      this.#setState('closed');
      p.onClosed(this);
    });
  }

  get state(): SessionState {
    return this.#state;
  }
  get activeStreams(): number {
    return this.#active;
  }
  get totalStreams(): number {
    return this.#total;
  }
  get maxStreams(): number {
    return this.#maxStreams;
  }
  /** Why the session failed or went away, once it has. */
  get error(): HboneError | undefined {
    return this.#error;
  }
  get serverIdentity(): SpiffeId | undefined {
    return this.#serverIdentity;
  }
  get serverCertificate(): X509Certificate | undefined {
    return this.#serverCertificate;
  }

  /** True if a new stream may be put on this session now. */
  hasRoom(): boolean {
    return (this.#state === 'connecting' || this.#state === 'ready') && this.#active < this.#maxStreams;
  }

  /** Reserves a stream slot; pair with `release()`. */
  reserve(): void {
    this.#active++;
    this.#total++;
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  /** True if the peer's GOAWAY says it never processed stream `id` (so it can be retried). */
  unprocessed(id: number | undefined): boolean {
    return id !== undefined && this.#goawayLastStream !== undefined && id > this.#goawayLastStream;
  }

  /**
   * A stream of this session ended with RST_STREAM. Before the peer's rapid-reset guard would
   * tear the whole session down, new streams move to a fresh session.
   */
  noteReset(now = Date.now()): void {
    if (this.#rstAt > 0) this.#rstTokens = Math.min(PEER_RST_BURST, this.#rstTokens + ((now - this.#rstAt) / 1000) * PEER_RST_PER_SECOND);
    this.#rstAt = now;
    this.#rstTokens--;
    // Leave room for every stream still open on it to reset too.
    if (this.#rstTokens < Math.min(PEER_RST_BURST / 2, this.params.maxStreams + 100)) this.drain('reset budget nearly spent');
  }

  /** Frees a slot (stream closed or never opened). */
  release(): void {
    this.#active--;
    if (this.#active > 0) return;
    if (this.#state === 'draining') this.#closeGracefully();
    else if (this.#state === 'ready') this.#armIdle();
  }

  /** No new streams; closes (GOAWAY) once the open ones have ended. */
  drain(why: string): void {
    if (this.#state === 'draining' || this.#state === 'closed') return;
    this.params.log.debug({ session: this.params.id, via: this.params.viaText, why }, 'HBONE session draining');
    this.#setState('draining');
    clearTimeout(this.#idle);
    if (this.#active === 0) this.#closeGracefully();
  }

  /** Closes now, resetting open streams. */
  destroy(): void {
    if (!this.h2.destroyed) this.h2.destroy();
    this.#tls?.destroy();
  }

  #closeGracefully(): void {
    if (this.h2.closed || this.h2.destroyed) return;
    this.h2.close();
    // An unresponsive peer must not keep the socket forever.
    setTimeout(() => this.destroy(), 5000).unref();
  }

  #armIdle(idleSince = Date.now()): void {
    clearTimeout(this.#idle);
    const spare = this.params.isSpare(this);
    const wait = spare ? this.params.spareIdleTimeoutMs : this.params.idleTimeoutMs - (Date.now() - idleSince);
    this.#idle = setTimeout(
      () => {
        if (this.#active !== 0 || this.#state !== 'ready') return;
        // The others went first: the last of its group stays for the whole idle timeout.
        if (spare && !this.params.isSpare(this)) this.#armIdle(idleSince);
        else this.drain('idle');
      },
      Math.max(0, Math.min(wait, this.params.idleTimeoutMs)),
    );
    this.#idle.unref();
  }

  #setState(next: SessionState): void {
    const prev = this.#state;
    if (prev === next) return;
    const allowed: Record<SessionState, readonly SessionState[]> = {
      connecting: ['ready', 'draining', 'closed'],
      ready: ['draining', 'closed'],
      draining: ['closed'],
      closed: [],
    };
    if (!allowed[prev].includes(next)) return;
    this.#state = next;
    this.params.log.debug({ session: this.params.id, via: this.params.viaText }, `HBONE session ${prev} -> ${next}`);
  }
}

/** Why a peer might refuse our certificate, as far as we can tell locally. */
function diagnoseOwnCertificate(m: WorkloadTlsMaterial, trustDomain: string): string {
  const bundle = createTrustBundle(trustDomain, m.rootPem);
  if (!bundle.ok) return `and our own trust bundle is unusable: ${bundle.error.message}`;
  const v = verifyPeerChain(m.certChainPem, bundle.value);
  if (!v.ok) return `our certificate fails our own check, ${v.error.reason}: ${v.error.message}`;
  return 'our certificate looks valid here; the peer may trust another mesh root, see its logs';
}
