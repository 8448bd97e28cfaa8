import net from 'node:net';
import type { Duplex } from 'node:stream';
import { splice, connectTcp, type AuthzDecision, type TunnelRecord, type TunnelRequest } from '../../lib/hbone/index.js';
import type { Logger } from '../../lib/log.js';
import { authorize, modeOnPort } from '../../lib/policy/index.js';
import type { Workload } from '../../lib/xds/index.js';
import type { MeshState } from '../state/mesh-state.js';
import { stripV4Mapped } from './addresses.js';
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

/**
 * The destination side of the mesh on this node: decides whether a peer may
 * reach a local pod (it must be a meshed pod of this node, its mTLS mode must
 * admit the transport, and L4 authorization must allow) and connects to it.
 * One decision for all three ways in: HBONE (15008), plaintext through 15006
 * (PERMISSIVE), and connections between pods of this node.
 */
export class Inbound {
  constructor(
    private readonly state: MeshState,
    private readonly nodeName: string,
    private readonly telemetry: Telemetry,
    private readonly log: Logger,
  ) {}

  admit(peer: InboundPeer, destIp: string, destPort: number, transport: 'mtls' | 'plaintext'): Admission {
    const w = this.state.workloadAt(destIp);
    if (!w || w.node !== this.nodeName) return { ok: false, status: 503, reason: `${destIp} is not a workload on node ${this.nodeName}` };
    if (!w.meshed) return { ok: false, status: 503, reason: `${w.namespace}/${w.name} is not in the mesh` };
    // The capture hands over plaintext for a pod with any PERMISSIVE port; the STRICT ones are refused here.
    if (transport === 'plaintext' && modeOnPort(this.state.mtlsFor(w), destPort) === 'STRICT') {
      return { ok: false, status: 401, reason: `PeerAuthentication STRICT: ${w.namespace}/${w.name} accepts only mutual TLS on port ${destPort}` };
    }
    const principal = peer.identity?.replace(/^spiffe:\/\//, '');
    const decision = authorize(this.state.policiesFor(w, destPort), {
      sourcePrincipal: principal,
      sourceNamespace: principal ? /\/ns\/([^/]+)\//.exec(principal)?.[1] : undefined,
      sourceIp: peer.sourceIp,
      destinationIp: destIp,
      destinationPort: destPort,
    });
    if (decision.audited.length) this.log.info({ audited: decision.audited, peer: principal, dst: `${destIp}:${destPort}` }, 'AUDIT policy matched');
    if (!decision.allowed) {
      const reason = decision.reason === 'denied' ? `denied by AuthorizationPolicy ${decision.policy}` : 'no ALLOW AuthorizationPolicy matched';
      return { ok: false, status: 403, reason };
    }
    return { ok: true, workload: w };
  }

  /** The hooks of the HBONE server (15008): authorize each tunnel and report it. */
  hboneHooks() {
    const open = new WeakMap<TunnelRequest, (d: ConnectionOutcome) => void>();
    return {
      authorize: (req: TunnelRequest): AuthzDecision => {
        const sourceIp = forwardedFor(req.headers['forwarded']);
        const peer = { identity: req.peer.uri, sourceIp, sourceWorkload: sourceIp ? this.state.workloadAt(sourceIp) : undefined };
        const a = this.admit(peer, req.destination.host, req.destination.port, 'mtls');
        const close = this.telemetry.open({
          reporter: 'destination',
          source: { ip: sourceIp ?? req.sourceAddress.address, workload: peer.sourceWorkload, principal: req.peer.uri.replace(/^spiffe:\/\//, '') },
          destination: { ip: req.destination.host, port: req.destination.port, workload: a.ok ? a.workload : this.state.workloadAt(req.destination.host) },
          security: 'mutual_tls',
        });
        open.set(req, close);
        return a.ok ? { allow: true } : { allow: false, status: a.status === 503 ? 403 : a.status, reason: a.reason };
      },
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

  /**
   * Serves a connection that already arrived (plaintext on 15006, or from a
   * pod of this node): admit, connect to the pod, splice, report.
   */
  async deliver(client: Duplex, peer: InboundPeer & { sourcePort?: number }, destIp: string, destPort: number, transport: 'mtls' | 'plaintext'): Promise<void> {
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
    const upstream = await connectTcp({ host: destIp, port: destPort, family: 4 });
    if (!upstream.ok) {
      close({ received: 0, sent: 0, error: upstream.error.message, flags: 'UF' });
      resetDuplex(client);
      return;
    }
    const r = await splice(client, upstream.value);
    close({ received: r.streamToSocket, sent: r.socketToStream, error: r.error?.message, ...(r.error ? { flags: 'UR' } : {}) });
  }

  /** The plaintext listener (15006), fed by the TPROXY capture. */
  startPlaintextListener(port: number): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      socket.on('error', () => {});
      const sourceIp = stripV4Mapped(socket.remoteAddress ?? '');
      void this.deliver(
        socket,
        { identity: undefined, sourceIp, sourcePort: socket.remotePort, sourceWorkload: this.state.workloadAt(sourceIp) },
        stripV4Mapped(socket.localAddress ?? ''),
        socket.localPort ?? 0,
        'plaintext',
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '0.0.0.0', port }, () => resolve(server));
    });
  }
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
