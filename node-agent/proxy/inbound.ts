import net from 'node:net';
import type { Duplex } from 'node:stream';
import { fail, type Result } from '../../lib/errors.js';
import { splice, connectTcp, HboneError, type AuthzDecision, type SpliceResult, type TunnelRecord, type TunnelRequest } from '../../lib/hbone/index.js';
import type { Logger } from '../../lib/log.js';
import { authorize, denialReason, modeOnPort, principalNamespace } from '../../lib/policy/index.js';
import type { WaypointRef, Workload } from '../../lib/xds/index.js';
import type { AgentMetrics } from '../admin/metrics.js';
import { transparentSocket } from '../dataplane/sockets.js';
import type { MeshState } from '../state/mesh-state.js';
import { stripV4Mapped } from './addresses.js';
import { listen, type ListenOn } from '../../lib/listen.js';
import type { ConnectionOutcome, Telemetry } from './telemetry.js';

/** Who is asking to reach a local pod, as far as the destination agent knows. */
export interface InboundPeer {
  /** `spiffe://…` of the source workload; absent for plaintext. */
  identity: string | undefined;
  /** The original client address (the pod), if known. */
  sourceIp: string | undefined;
  sourceWorkload: Workload | undefined;
}

export type Admission =
  | { ok: true; workload: Workload }
  | { ok: false; status: 401 | 403 | 503; reason: string };

export interface InboundOptions {
  state: MeshState;
  nodeName: string;
  telemetry: Telemetry;
  metrics: AgentMetrics;
  log: Logger;
  /**
   * Connect to local pods from the client's own address (IP_TRANSPARENT), so
   * applications see who called them. Needs the capture table's
   * `socket transparent` rule to route the replies back; off without it.
   */
  preserveSourceIp: boolean;
}

/**
 * The destination side of the mesh on this node: decides whether a peer may
 * reach a local pod (it must be a meshed pod of this node, its mTLS mode must
 * admit the transport, and L4 authorization must allow) and connects to it.
 * One decision for all three ways in: HBONE (15008), plaintext through 15006
 * (PERMISSIVE), and connections between pods of this node. Until the agent
 * has its first complete config it knows no policy, so it admits nothing.
 */
export class Inbound {
  private readonly state: MeshState;
  private readonly nodeName: string;
  private readonly telemetry: Telemetry;
  private readonly log: Logger;

  constructor(private readonly o: InboundOptions) {
    this.state = o.state;
    this.nodeName = o.nodeName;
    this.telemetry = o.telemetry;
    this.log = o.log;
  }

  admit(peer: InboundPeer, destIp: string, destPort: number, transport: 'mtls' | 'plaintext'): Admission {
    const { audited, policy: _decidedBy, ...a } = admitInbound(this.state, this.nodeName, peer, destIp, destPort, transport);
    if (audited.length) this.log.info({ audited, peer: peer.identity?.replace(/^spiffe:\/\//, ''), dst: `${destIp}:${destPort}` }, 'AUDIT policy matched');
    return a as Admission;
  }

  /** The hooks of the HBONE server (15008): authorize each tunnel, connect it from the client's address, and report it. */
  hboneHooks() {
    const open = new WeakMap<TunnelRequest, (d: ConnectionOutcome) => void>();
    const sources = new WeakMap<TunnelRequest, Workload>();
    return {
      authorize: (req: TunnelRequest): AuthzDecision => {
        const principal = req.peer.uri.replace(/^spiffe:\/\//, '');
        const src = tunnelSource(this.state, req);
        if (!src.ok) {
          this.o.metrics.sourceRefused.inc({ source_principal: principal });
          this.log.warn({ code: 'AMBIT_ERR_SOURCE_SPOOFED', peer: req.peer.uri, from: req.sourceAddress.address, dst: req.authority, reason: src.error }, 'HBONE tunnel refused: false source address');
          return { allow: false, status: 401, reason: src.error };
        }
        const sourceWorkload = src.value;
        if (sourceWorkload) sources.set(req, sourceWorkload);
        const peer = { identity: req.peer.uri, sourceIp: sourceWorkload?.ip, sourceWorkload };
        const a = this.admit(peer, req.destination.host, req.destination.port, 'mtls');
        const close = this.telemetry.open({
          reporter: 'destination',
          source: { ip: sourceWorkload?.ip ?? req.sourceAddress.address, workload: sourceWorkload, principal },
          destination: { ip: req.destination.host, port: req.destination.port, workload: a.ok ? a.workload : this.state.workloadAt(req.destination.host) },
          security: 'mutual_tls',
        });
        open.set(req, close);
        return a.ok ? { allow: true } : { allow: false, status: a.status === 503 ? 403 : a.status, reason: a.reason };
      },
      connectUpstream: (req: TunnelRequest, signal: AbortSignal) => this.connectPod(req.destination.host, req.destination.port, sources.get(req)?.ip, signal),
      onTunnelClosed: (r: TunnelRecord) => {
        const close = r.request && open.get(r.request);
        if (!close) return;
        const denied = r.status === 401 || r.status === 403;
        close({
          received: r.bytesFromPeer,
          sent: r.bytesToPeer,
          error: r.status === 200 ? undefined : r.reason,
          ...(r.status === 200 ? {} : { flags: denied ? 'DENY' : 'UF' }),
        });
      },
    };
  }

  /** A connection to a local pod, from `sourceIp` when the agent preserves source addresses and knows it. */
  private connectPod(ip: string, port: number, sourceIp: string | undefined, signal?: AbortSignal): Promise<Result<net.Socket, HboneError>> {
    if (!this.o.preserveSourceIp || !sourceIp) return connectTcp({ host: ip, port, family: 4 }, signal ? { signal } : {});
    let socket: net.Socket;
    try {
      socket = transparentSocket();
    } catch (err) {
      return Promise.resolve(fail(new HboneError('AMBIT_ERR_UPSTREAM_CONNECT', `cannot open a transparent socket: ${(err as Error).message}`, { reason: 'transparent', cause: err })));
    }
    return connectTcp({ host: ip, port, family: 4 }, { socket, localAddress: sourceIp, ...(signal ? { signal } : {}) });
  }

  /**
   * Serves a connection that already arrived (plaintext on 15006, or from a
   * pod of this node): admit, connect to the pod, splice, report. `join`
   * carries the bytes once admitted: the same-node fast path passes its own.
   */
  async deliver(
    client: Duplex,
    peer: InboundPeer & { sourcePort?: number },
    destIp: string,
    destPort: number,
    transport: 'mtls' | 'plaintext',
    join: (client: Duplex, upstream: Duplex) => Promise<SpliceResult> = splice,
  ): Promise<void> {
    const a = this.admit(peer, destIp, destPort, transport);
    const close = this.telemetry.open({
      reporter: 'destination',
      source: { ip: peer.sourceIp ?? 'unknown', ...(peer.sourcePort ? { port: peer.sourcePort } : {}), workload: peer.sourceWorkload, principal: peer.identity?.replace(/^spiffe:\/\//, '') },
      destination: { ip: destIp, port: destPort, workload: a.ok ? a.workload : this.state.workloadAt(destIp) },
      security: transport === 'mtls' ? 'mutual_tls' : 'none',
    });
    if (!a.ok) {
      this.log.info({ src: peer.sourceIp, identity: peer.identity, dst: `${destIp}:${destPort}`, reason: a.reason }, 'inbound connection refused');
      close({ received: 0, sent: 0, error: a.reason, flags: a.status === 503 ? 'UH' : 'DENY' });
      resetDuplex(client);
      return;
    }
    const upstream = await this.connectPod(destIp, destPort, peer.sourceIp);
    if (!upstream.ok) {
      close({ received: 0, sent: 0, error: upstream.error.message, flags: 'UF' });
      resetDuplex(client);
      return;
    }
    const r = await join(client, upstream.value);
    close({ received: r.streamToSocket, sent: r.socketToStream, error: r.error?.message, ...(r.error ? { flags: 'UR' } : {}) });
  }

  /** The plaintext listener (15006), fed by the TPROXY capture: its socket must be transparent. */
  startPlaintextListener(on: ListenOn): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      socket.on('error', () => {});
      const sourceIp = stripV4Mapped(socket.remoteAddress ?? '');
      this.deliver(
        socket,
        { identity: undefined, sourceIp, sourcePort: socket.remotePort, sourceWorkload: this.state.workloadAt(sourceIp) },
        stripV4Mapped(socket.localAddress ?? ''),
        socket.localPort ?? 0,
        'plaintext',
      ).catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'bug: plaintext inbound connection failed unexpectedly');
        resetDuplex(socket);
      });
    });
    return listen(server, on, this.log, 'plaintext inbound (15006)');
  }
}

/**
 * The destination agent's decision on one connection to a local pod, as a value: whether the
 * peer may reach `destIp:destPort` (a meshed pod of `nodeName`; only its waypoint's proxies
 * when one guards it; the transport its mTLS mode admits; L4 authorization). A free function
 * of the state so that `ambit policy explain` runs this very code on a state rebuilt from
 * the agent's config dump. `audited`: the AUDIT policies that matched (the caller logs them);
 * `policy`: the AuthorizationPolicy that decided, if one did.
 */
export function admitInbound(state: MeshState, nodeName: string, peer: InboundPeer, destIp: string, destPort: number, transport: 'mtls' | 'plaintext'): Admission & { audited: string[]; policy?: string } {
  if (!state.complete) return { ok: false, status: 503, reason: 'the node agent has no complete config from the controller yet', audited: [] };
  const w = state.workloadAt(destIp);
  if (!w || w.node !== nodeName) return { ok: false, status: 503, reason: `${destIp} is not a workload on node ${nodeName}`, audited: [] };
  if (!w.meshed) return { ok: false, status: 503, reason: `${w.namespace}/${w.name} is not in the mesh`, audited: [] };
  // Behind a waypoint, only the waypoint's proxies get in: a call to the pod's address must not skip its L7 rules.
  const guard = state.guardingWaypoint(w);
  if (guard) {
    const proxies = waypointIdentity(w.identity, guard);
    if (peer.identity !== proxies) {
      return { ok: false, status: 403, reason: `${w.namespace}/${w.name} serves Services bound to waypoint ${guard.namespace}/${guard.name}: only its proxies (${proxies}) may connect to it directly`, audited: [] };
    }
  }
  // The capture hands over plaintext for a pod with any PERMISSIVE port; the STRICT ones are refused here.
  if (transport === 'plaintext' && modeOnPort(state.mtlsFor(w), destPort) === 'STRICT') {
    return { ok: false, status: 401, reason: `PeerAuthentication STRICT: ${w.namespace}/${w.name} accepts only mutual TLS on port ${destPort}`, audited: [] };
  }
  const principal = peer.identity?.replace(/^spiffe:\/\//, '');
  const decision = authorize(state.policiesFor(w, destPort), {
    sourcePrincipal: principal,
    sourceNamespace: principalNamespace(principal),
    sourceIp: peer.sourceIp,
    destinationIp: destIp,
    destinationPort: destPort,
  });
  const policy = decision.policy ? { policy: decision.policy } : {};
  if (!decision.allowed) return { ok: false, status: 403, reason: denialReason(decision), audited: decision.audited, ...policy };
  return { ok: true, workload: w, audited: decision.audited, ...policy };
}

/**
 * The address a tunnel's client really has. The source agent names it in
 * `Forwarded: for=`; the claim is believed only for a workload whose
 * identity is the peer certificate's and that runs on the node the tunnel
 * comes from. No claim: unknown. A false claim: an error (the tunnel is
 * refused), or any meshed workload could borrow another's address to pass
 * an ipBlocks rule or to be logged as someone else. Node agents and
 * waypoints check it alike.
 */
export function tunnelSource(state: MeshState, req: TunnelRequest): Result<Workload | undefined, string> {
  const claimed = forwardedFor(req.headers['forwarded']);
  if (claimed === undefined) return { ok: true, value: undefined };
  const w = state.workloadAt(claimed);
  if (!w || w.identity !== req.peer.uri) {
    return fail(`the peer ${req.peer.uri} claims source address ${claimed}, which is ${w ? `${w.namespace}/${w.name} (${w.identity})` : 'no workload the mesh knows'}`);
  }
  const from = state.nodeIp(w.node);
  if (from !== req.sourceAddress.address) {
    return fail(`the peer ${req.peer.uri} claims source address ${claimed} of ${w.namespace}/${w.name} on node ${w.node}, but the tunnel comes from ${req.sourceAddress.address}`);
  }
  return { ok: true, value: w };
}

/** The identity of a waypoint's proxies (its service account), in the trust domain of `like`. */
export function waypointIdentity(like: string, ref: WaypointRef): string {
  return like.replace(/\/ns\/.*$/, `/ns/${ref.namespace}/sa/${ref.name}`);
}

/** `for=10.244.1.2` from an RFC 7239 Forwarded header, as the source agent sends it. */
function forwardedFor(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  const m = v ? /for="?\[?([0-9a-fA-F.:]+)\]?"?/.exec(v) : null;
  return m?.[1] && net.isIP(m[1]) ? m[1] : undefined;
}

export function resetDuplex(d: Duplex): void {
  if (d instanceof net.Socket) d.resetAndDestroy();
  else d.destroy();
}
