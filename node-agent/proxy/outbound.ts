import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectTcp, splice, type HbonePool } from '../../lib/hbone/index.js';
import type { Service, WaypointRef, Workload } from '../../lib/xds/index.js';
import type { Logger } from '../../lib/log.js';
import { identityToSni } from '../../lib/mesh/sni.js';
import type { OriginalDst } from '../bpf/abi.js';
import type { CertSource } from '../dataplane/certs.js';
import type { FastPath } from '../fastpath/index.js';
import type { MeshState } from '../state/mesh-state.js';
import type { AgentMetrics } from '../admin/metrics.js';
import { stripV4Mapped } from './addresses.js';
import { resetDuplex, waypointIdentity, type Inbound } from './inbound.js';
import { listen, type ListenOn } from '../../lib/listen.js';
import type { Resolver, Target } from './resolve.js';
import type { ConnectionOutcome, ConnectionView, Telemetry } from './telemetry.js';

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
  const via = outboundWaypoint(deps.state, source, orig.ip);
  if (via) {
    await viaWaypoint(client, deps, { peerIp, peerPort, source: via.source, orig, service: via.service, waypoint: via.waypoint });
    return;
  }
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

/**
 * The waypoint a captured connection goes through, if any: a meshed source calling a Service
 * (or a pod) bound to a waypoint that exists; the waypoint then picks the endpoint and applies
 * its rules. Exported for `ambit policy explain`, which asks the same question of an agent's
 * config dump.
 */
export function outboundWaypoint(state: MeshState, source: Workload | undefined, destIp: string): { source: Workload; service: Service | undefined; waypoint: WaypointRef } | undefined {
  const service = state.serviceAt(destIp);
  const waypoint = service?.waypoint ?? state.workloadAt(destIp)?.waypoint;
  return waypoint && source?.meshed && state.waypointService(waypoint) ? { source, service, waypoint } : undefined;
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
  const agent = meshedPath ? agentOf(deps, target.workload!) : undefined;
  const upstream: Upstream = !meshedPath
    ? await plain(target)
    : agent
      ? await tunnel(deps, source!.identity, peerIp, target, agent)
      : { ok: false, error: `no address known for node ${target.workload!.node}`, flags: 'UH' };
  await carry(client, upstream, close);
}

type Upstream = { ok: true; value: Duplex } | { ok: false; error: string; flags: string };

/** Joins the client to its upstream until both sides close, or resets it when there is none; then reports the connection. */
async function carry(client: net.Socket, upstream: Upstream, close: (done: ConnectionOutcome) => void): Promise<void> {
  if (!upstream.ok) {
    close({ received: 0, sent: 0, error: upstream.error, flags: upstream.flags });
    client.resetAndDestroy();
    return;
  }
  const r = await splice(upstream.value, client);
  close({ received: r.socketToStream, sent: r.streamToSocket, error: r.error?.message, ...(r.error ? { flags: 'UR' } : {}) });
  if (r.error) resetDuplex(client);
}

async function plain(target: Target): Promise<Upstream> {
  const r = await connectTcp({ host: target.ip, port: target.port, family: 4 });
  return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message, flags: 'UF' };
}

/**
 * A connection to a waypoint-bound destination: through an HBONE tunnel to one of the
 * waypoint's proxies (its Service's ready endpoints, in turn), asking for the address the
 * client dialled; the waypoint resolves it and applies its rules. No ready proxy: refused,
 * never sent around the waypoint.
 */
async function viaWaypoint(client: net.Socket, deps: OutboundDeps, c: Omit<Captured, 'target' | 'source'> & { source: Workload; service: Service | undefined; waypoint: WaypointRef }): Promise<void> {
  const { peerIp, source, orig, service, waypoint } = c;
  const target: Target = { ip: orig.ip, port: orig.port, workload: service ? undefined : deps.state.workloadAt(orig.ip), service };
  const close = deps.telemetry.open(sourceView({ ...c, target }, true));
  const proxy = deps.resolver.resolve(deps.state.waypointService(waypoint)!.clusterIp, deps.hbonePort);
  const upstream: Upstream =
    'error' in proxy
      ? { ok: false, error: `waypoint ${waypoint.namespace}/${waypoint.name} has no ready proxy (${proxy.error})`, flags: 'UH' }
      : await tunnel(deps, source.identity, peerIp, { ip: orig.ip, port: orig.port }, { address: `${proxy.ip}:${proxy.port}`, identity: waypointIdentity(source.identity, waypoint), lanes: WAYPOINT_LANES });
  await carry(client, upstream, close);
}

/** Where a tunnel goes: the HBONE address of the peer (a node agent or a waypoint proxy) and the identity it must prove. */
interface TunnelPeer {
  address: string;
  identity: string;
  /** Sessions to spread this peer's tunnels over (a waypoint serves each on one of its workers). */
  lanes?: number;
}

/**
 * Sessions a node agent keeps to one waypoint proxy per source identity, used in turn: a
 * proxy runs a few workers sharing its port, and each session lands on one of them.
 */
const WAYPOINT_LANES = 4;

function agentOf(deps: OutboundDeps, dst: Workload): TunnelPeer | undefined {
  const nodeIp = deps.nodeIp(dst.node);
  return nodeIp ? { address: `${nodeIp}:${deps.hbonePort}`, identity: dst.identity } : undefined;
}

async function tunnel(deps: OutboundDeps, identity: string, sourceIp: string, destination: { ip: string; port: number }, peer: TunnelPeer): Promise<Upstream> {
  let cert;
  try {
    cert = await deps.certs.get(identity);
  } catch (err) {
    return { ok: false, error: `no certificate for ${identity}: ${(err as Error).message}`, flags: 'UF' };
  }
  const sni = identityToSni(peer.identity);
  const connect = () =>
    deps.pool.connect({
      sourceIdentity: identity,
      sourceTls: () => deps.certs.current(identity) ?? cert,
      destination: `${destination.ip}:${destination.port}`,
      via: peer.address,
      expectedServerIdentity: peer.identity,
      ...(sni ? { serverName: sni } : {}),
      headers: { forwarded: `for=${sourceIp}` },
      ...(peer.lanes ? { lanes: peer.lanes } : {}),
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
