import type { Duplex } from 'node:stream';
import { AmbitError, fail, ok, type Result } from '../lib/errors.js';
import { connectTcp, type AuthzDecision, type HbonePool, type TunnelRecord, type TunnelRequest } from '../lib/hbone/index.js';
import type { WorkloadTlsMaterial } from '../lib/identity/verify.js';
import type { Logger } from '../lib/log.js';
import { identityToSni } from '../lib/mesh/sni.js';
import { authorize } from '../lib/policy/index.js';
import type { Service, WaypointRef, Workload } from '../lib/xds/index.js';
import { tunnelSource } from '../node-agent/proxy/inbound.js';
import { Resolver, type Target } from '../node-agent/proxy/resolve.js';
import type { ConnectionOutcome, ConnectionView, Telemetry } from '../node-agent/proxy/telemetry.js';
import type { MeshState } from '../node-agent/state/mesh-state.js';

export interface WaypointProxyOptions {
  state: MeshState;
  /** The Waypoint served. */
  waypoint: WaypointRef;
  /** Its proxies' identity: the source of every tunnel it opens on. */
  identity: string;
  certificate: () => Promise<WorkloadTlsMaterial>;
  pool: HbonePool;
  hbonePort: number;
  telemetry: Telemetry;
  log: Logger;
}

/** A tunnel the waypoint accepted: what it asked for, who asked, and the endpoint chosen. */
interface Accepted {
  service: Service | undefined;
  source: Workload | undefined;
  endpoint: Target;
}

const same = (a: WaypointRef | null | undefined, b: WaypointRef) => a?.namespace === b.namespace && a.name === b.name;

/**
 * The waypoint's data path for one tunnel at a time: a node agent opens HBONE
 * to it on behalf of a meshed client, asking for the address the client
 * dialled (a Service's ClusterIP and port, or a pod bound to the waypoint);
 * the waypoint admits only what it serves, picks the endpoint (the Service's
 * load-balancing policy), enforces the AuthorizationPolicies that target it or
 * the Service (L4 fields; rules with L7 fields are read fail-closed, as node
 * agents read them, until the waypoint parses HTTP), and carries the bytes on
 * over HBONE to the endpoint's node agent as itself, which is the only
 * identity that agent admits for a waypoint-bound workload.
 */
export class WaypointProxy {
  private readonly resolver: Resolver;
  private readonly accepted = new WeakMap<TunnelRequest, Accepted>();
  private readonly reports = new WeakMap<TunnelRequest, (d: ConnectionOutcome) => void>();

  constructor(private readonly o: WaypointProxyOptions) {
    this.resolver = new Resolver(o.state);
  }

  /** The HBONE server's hooks (15008). */
  hooks() {
    return {
      authorize: (req: TunnelRequest): AuthzDecision => this.authorize(req),
      connectUpstream: (req: TunnelRequest) => this.connectUpstream(req),
      onTunnelClosed: (r: TunnelRecord) => this.closed(r),
    };
  }

  private authorize(req: TunnelRequest): AuthzDecision {
    const { state, waypoint } = this.o;
    const deny = (status: 401 | 403, reason: string): AuthzDecision => {
      this.o.telemetry.open(this.view(req, undefined, undefined))({ received: 0, sent: 0, error: reason, flags: 'DENY' });
      this.o.log.info({ peer: req.peer.uri, dst: req.authority, reason }, 'tunnel refused');
      return { allow: false, status, reason };
    };
    if (!state.complete) return deny(403, `waypoint ${waypoint.namespace}/${waypoint.name} has no complete config from the controller yet`);
    const src = tunnelSource(state, req);
    if (!src.ok) return deny(401, src.error);
    const { host, port } = req.destination;
    const service = state.serviceAt(host);
    const served = service ? same(service.waypoint, waypoint) : same(state.workloadAt(host)?.waypoint, waypoint);
    if (!served) {
      const what = service ? `Service ${service.namespace}/${service.name}` : `${host}:${port}`;
      return deny(403, `${what} is not bound to waypoint ${waypoint.namespace}/${waypoint.name}`);
    }
    // The endpoint is chosen first, so that policy reads the same destination (pod address
    // and target port) at the waypoint as at a node agent.
    const endpoint = this.resolver.resolve(host, port);
    if ('error' in endpoint) return deny(403, endpoint.error);
    const principal = req.peer.uri.replace(/^spiffe:\/\//, '');
    const decision = authorize(state.waypointPolicies(waypoint, service), {
      sourcePrincipal: principal,
      sourceNamespace: /\/ns\/([^/]+)\//.exec(principal)?.[1],
      sourceIp: src.value?.ip,
      destinationIp: endpoint.ip,
      destinationPort: endpoint.port,
    });
    if (decision.audited.length) this.o.log.info({ audited: decision.audited, peer: principal, dst: req.authority }, 'AUDIT policy matched');
    if (!decision.allowed) return deny(403, decision.reason === 'denied' ? `denied by AuthorizationPolicy ${decision.policy}` : 'no ALLOW AuthorizationPolicy matched');
    this.accepted.set(req, { service, source: src.value, endpoint });
    return { allow: true };
  }

  private async connectUpstream(req: TunnelRequest): Promise<Result<Duplex, Error>> {
    const resolved = this.accepted.get(req)?.endpoint;
    if (!resolved) return fail(new AmbitError('AMBIT_ERR_UPSTREAM_CONNECT', 'bug: a tunnel reached connectUpstream without being authorized'));
    const release = this.resolver.track(resolved.ip);
    const report = this.report(req, resolved.workload);
    this.reports.set(req, (d) => (release(), report(d)));
    const dst = resolved.workload;
    if (!dst?.meshed) {
      // An endpoint outside the mesh gets plain TCP, as from any client outside it.
      const r = await connectTcp({ host: resolved.ip, port: resolved.port, family: 4 });
      return r.ok ? ok(r.value) : fail(r.error);
    }
    const nodeIp = this.o.state.nodeIp(dst.node);
    if (!nodeIp) return fail(new AmbitError('AMBIT_ERR_UPSTREAM_CONNECT', `no address known for node ${dst.node}`));
    let tls: WorkloadTlsMaterial;
    try {
      tls = await this.o.certificate();
    } catch (err) {
      return fail(new AmbitError('AMBIT_ERR_UPSTREAM_CONNECT', `no certificate for ${this.o.identity}: ${(err as Error).message}`));
    }
    const sni = identityToSni(dst.identity);
    const r = await this.o.pool.connect({
      sourceIdentity: this.o.identity,
      sourceTls: () => tls,
      destination: `${resolved.ip}:${resolved.port}`,
      via: `${nodeIp}:${this.o.hbonePort}`,
      expectedServerIdentity: dst.identity,
      ...(sni ? { serverName: sni } : {}),
    });
    return r.ok ? ok(r.value.stream) : fail(r.error);
  }

  /** Counts a tunnel open and returns its report, for when it is over. */
  private report(req: TunnelRequest, endpoint: Workload | undefined): (d: ConnectionOutcome) => void {
    const accepted = this.accepted.get(req);
    return this.o.telemetry.open(this.view(req, accepted, endpoint));
  }

  private closed(r: TunnelRecord): void {
    const report = r.request && this.reports.get(r.request);
    if (!report) return;
    report({
      received: r.bytesFromPeer,
      sent: r.bytesToPeer,
      error: r.status === 200 ? undefined : r.reason,
      ...(r.status === 200 ? {} : { flags: 'UF' }),
    });
  }

  private view(req: TunnelRequest, accepted: Accepted | undefined, endpoint: Workload | undefined): ConnectionView {
    const service = accepted?.service;
    return {
      reporter: 'waypoint',
      source: { ip: accepted?.source?.ip ?? req.sourceAddress.address, workload: accepted?.source, principal: req.peer.uri.replace(/^spiffe:\/\//, '') },
      destination: { ip: req.destination.host, port: req.destination.port, workload: endpoint, ...(service ? { service: `${service.name}.${service.namespace}.svc.cluster.local` } : {}) },
      security: 'mutual_tls',
    };
  }
}
