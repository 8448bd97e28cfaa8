import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectTcp, splice, type HbonePool } from '../../lib/hbone/index.js';
import type { Workload } from '../../lib/xds/index.js';
import type { Logger } from '../../lib/log.js';
import { identityToSni } from '../../lib/mesh/sni.js';
import type { OriginalDst } from '../bpf/abi.js';
import type { CertSource } from '../dataplane/certs.js';
import type { FastPath } from '../fastpath/index.js';
import type { MeshState } from '../state/mesh-state.js';
import type { AgentMetrics } from '../admin/metrics.js';
import { stripV4Mapped } from './addresses.js';
import { resetDuplex, type Inbound } from './inbound.js';
import { listen, type ListenOn } from '../../lib/listen.js';
import type { Resolver, Target } from './resolve.js';
import type { ConnectionView, Telemetry } from './telemetry.js';

export interface OutboundDeps {
  nodeName: string;
  takeOriginalDst(peerIp: string, peerPort: number): OriginalDst | undefined;
  state: MeshState;
  resolver: Resolver;
  inbound: Inbound;
  /** Carries same-node connections once the inbound side admitted them. */
  fastPath: FastPath;
  certs: CertSource;
  pool: HbonePool;
  /** A node's address for HBONE (its InternalIP). */
  nodeIp(node: string): string | undefined;
  hbonePort: number;
  /** How long a tunnel keeps trying a peer whose 15008 refuses connections (its agent restarting). */
  hboneRetryMs: number;
  metrics: AgentMetrics;
  telemetry: Telemetry;
  log: Logger;
}

/**
 * The outbound capture listener (15001). Each accepted connection was
 * redirected by connect4 and its original destination comes from the eBPF
 * map. A meshed destination on another node is reached through an HBONE
 * tunnel with the source workload's certificate; one on this node is handed
 * to the inbound side directly (no network, same policy); anything else
 * passes through as plain TCP. Failures reset the client.
 */
export function startOutbound(on: ListenOn, deps: OutboundDeps): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    client.on('error', () => {}); // reported when the connection is over
    handle(client, deps).catch((err: unknown) => {
      deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'outbound connection failed unexpectedly');
      client.resetAndDestroy();
    });
  });
  return listen(server, on, deps.log, 'outbound (15001)');
}

async function handle(client: net.Socket, deps: OutboundDeps): Promise<void> {
  const peerIp = stripV4Mapped(client.remoteAddress ?? '');
  const peerPort = client.remotePort ?? 0;
  const orig = deps.takeOriginalDst(peerIp, peerPort);
  if (!orig) {
    deps.metrics.redirectMisses.inc();
    deps.log.warn({ code: 'AMBIT_ERR_ORIGINAL_DST', peer: `${peerIp}:${peerPort}` }, 'connection on the outbound port was not redirected by this node: refusing');
    client.resetAndDestroy();
    return;
  }
  const source = deps.state.workloadAt(peerIp);
  const resolved = deps.resolver.resolve(orig.ip, orig.port);
  if ('error' in resolved) {
    const target: Target = { ip: orig.ip, port: orig.port, workload: undefined, service: undefined };
    deps.telemetry.open(sourceView({ peerIp, peerPort, source, target, orig }, false))({ received: 0, sent: 0, error: resolved.error, flags: 'UH' });
    client.resetAndDestroy();
    return;
  }
  // The connection counts against its endpoint (LEAST_REQUEST) until it closes, whichever way it goes.
  const release = deps.resolver.track(resolved.ip);
  try {
    await forward(client, deps, { peerIp, peerPort, source, target: resolved, orig });
  } finally {
    release();
  }
}

/** A captured connection: who opened it, what it addressed, where it goes. */
interface Captured {
  peerIp: string;
  peerPort: number;
  source: Workload | undefined;
  target: Target;
  orig: OriginalDst;
}

function sourceView({ peerIp, peerPort, source, target, orig }: Captured, meshedPath: boolean): ConnectionView {
  const service = target.service ? `${target.service.name}.${target.service.namespace}.svc.cluster.local` : undefined;
  return {
    reporter: 'source',
    source: { ip: peerIp, port: peerPort, workload: source },
    destination: { ip: target.ip, port: target.port, workload: target.workload, service },
    originalDestination: { ip: orig.ip, port: orig.port },
    security: meshedPath ? 'mutual_tls' : 'none',
  };
}

/** Carries a resolved connection: to the inbound side on this node, through a tunnel, or as plain TCP. */
async function forward(client: net.Socket, deps: OutboundDeps, c: Captured): Promise<void> {
  const { peerIp, peerPort, source, target } = c;
  const meshedPath = Boolean(source?.meshed && target.workload?.meshed);
  if (meshedPath && target.workload!.node === deps.nodeName) {
    // Same node: the inbound side decides and reports; no tunnel needed, and the kernel carries the bytes.
    const peer = { identity: source!.identity, sourceIp: peerIp, sourcePort: peerPort, sourceWorkload: source };
    await deps.inbound.deliver(client, peer, target.ip, target.port, 'mtls', (a, b) => deps.fastPath.splice(a, b));
    return;
  }
  const close = deps.telemetry.open(sourceView(c, meshedPath));
  const upstream = meshedPath ? await tunnel(deps, source!.identity, peerIp, target) : await plain(target);
  if (!upstream.ok) {
    close({ received: 0, sent: 0, error: upstream.error, flags: upstream.flags });
    client.resetAndDestroy();
    return;
  }
  const r = await splice(upstream.value, client);
  close({ received: r.socketToStream, sent: r.streamToSocket, error: r.error?.message, ...(r.error ? { flags: 'UR' } : {}) });
  if (r.error) resetDuplex(client);
}

type Upstream = { ok: true; value: Duplex } | { ok: false; error: string; flags: string };

async function plain(target: Target): Promise<Upstream> {
  const r = await connectTcp({ host: target.ip, port: target.port, family: 4 });
  return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message, flags: 'UF' };
}

async function tunnel(deps: OutboundDeps, identity: string, sourceIp: string, target: Target): Promise<Upstream> {
  const dst = target.workload!;
  const nodeIp = deps.nodeIp(dst.node);
  if (!nodeIp) return { ok: false, error: `no address known for node ${dst.node}`, flags: 'UH' };
  let cert;
  try {
    cert = await deps.certs.get(identity);
  } catch (err) {
    return { ok: false, error: `no certificate for ${identity}: ${(err as Error).message}`, flags: 'UF' };
  }
  const sni = identityToSni(dst.identity);
  const connect = () =>
    deps.pool.connect({
      sourceIdentity: identity,
      sourceTls: () => deps.certs.current(identity) ?? cert,
      destination: `${target.ip}:${target.port}`,
      via: `${nodeIp}:${deps.hbonePort}`,
      expectedServerIdentity: dst.identity,
      ...(sni ? { serverName: sni } : {}),
      headers: { forwarded: `for=${sourceIp}` },
    });
  // Nobody listening on the peer's 15008 is, almost always, its agent restarting after a crash:
  // the client's connection waits (it is already accepted here) instead of being reset, for a
  // bounded time. Anything else (TLS, a denial, an unreachable pod) fails at once.
  const deadline = Date.now() + deps.hboneRetryMs;
  let r = await connect();
  for (let delay = 100; !r.ok && r.error.code === 'AMBIT_ERR_HBONE_CONNECT' && Date.now() + delay < deadline; delay = Math.min(delay * 2, 1000)) {
    await new Promise((res) => setTimeout(res, delay));
    r = await connect();
  }
  if (!r.ok) return { ok: false, error: r.error.message, flags: r.error.code === 'AMBIT_ERR_HBONE_DENIED' ? 'DENY' : 'UF' };
  return { ok: true, value: r.value.stream };
}
