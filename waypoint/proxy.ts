import type { Duplex } from 'node:stream';
import { AmbitError, fail, ok, type Result } from '../lib/errors.js';
import { connectTcp, splice, type AuthzDecision, type HbonePool, type TunnelRecord, type TunnelRequest } from '../lib/hbone/index.js';
import type { WorkloadTlsMaterial } from '../lib/identity/verify.js';
import type { Logger } from '../lib/log.js';
import { identityToSni } from '../lib/mesh/sni.js';
import { denialReason, type PolicyRef } from '../lib/policy/index.js';
import type { WaypointRef, Workload } from '../lib/xds/index.js';
import { tunnelSource } from '../node-agent/proxy/inbound.js';
import type { BalancerState } from '../node-agent/proxy/balancer-state.js';
import { Resolver, type Target } from '../node-agent/proxy/resolve.js';
import type { ConnectionOutcome, ConnectionView, Telemetry } from '../node-agent/proxy/telemetry.js';
import type { MeshState } from '../node-agent/state/mesh-state.js';
import { Exchange } from './exchange.js';
import { Http1Proxy } from './http1.js';
import { Http2Proxy, resetResponse } from './http2.js';
import { Resilience } from './resilience/services.js';
import type { Tracing } from './tracing.js';
import { RouteTable } from './routing/table.js';
import { Http1Upstream, Http2Upstream } from './upstream.js';
import { RequestGate, type HttpConnection } from './requests.js';
import type { RequestMetrics } from './metrics.js';
import { duplexPair } from './pair.js';
import { protocolOf, sniff } from './protocol.js';

export interface WaypointProxyOptions {
  state: MeshState;
  /** The Waypoint served. */
  waypoint: WaypointRef;
  /** Its proxies' identity: the source of every tunnel it opens on. */
  identity: string;
  certificate: () => Promise<WorkloadTlsMaterial>;
  pool: HbonePool;
  hbonePort: number;
  /** Per connection (bytes): `ambit_tcp_*` and the access log. */
  telemetry: Telemetry;
  /** Per HTTP request: `ambit_requests_total` and friends. */
  requests: RequestMetrics;
  /** One line per HTTP request. */
  accessLog: Logger;
  /** Trace context on every request, spans when export is on. */
  tracing: Tracing;
  /** Load-balancing cursors and open counts, shared by the proxy's workers (default: this thread's own). */
  balancer?: BalancerState;
  log: Logger;
}

/** A tunnel the waypoint accepted: what it asked for, who asked, and the endpoint chosen for it. */
interface Accepted {
  connection: HttpConnection;
  endpoint: Target;
  /** Why the addressed Service had no endpoint to choose (then `endpoint` is the address dialled). */
  unresolved: string | undefined;
  policies: readonly PolicyRef[];
  /** The policies have HTTP fields: decided per request, or fail-closed once the bytes are not HTTP. */
  deferred: boolean;
}

const same = (a: WaypointRef | null | undefined, b: WaypointRef) => a?.namespace === b.namespace && a.name === b.name;

/** Whether a policy has fields only an HTTP request can answer. */
const needsRequest = (p: PolicyRef): boolean =>
  p.rules.some((r) => (r.to ?? []).some((t) => t.operation && (t.operation.methods || t.operation.notMethods || t.operation.paths || t.operation.notPaths || t.operation.hosts || t.operation.notHosts)) || (r.when ?? []).some((c) => c.key.startsWith('request.')));

/**
 * The waypoint's data path. A node agent opens HBONE to it on behalf of a
 * meshed client, asking for the address the client dialled (a Service's
 * ClusterIP and port, or a pod bound to the waypoint). The waypoint admits
 * only what it serves, then reads the first bytes: HTTP/1.1 and HTTP/2 are
 * served request by request (http1.ts, http2.ts: each authorized with its
 * method, path and headers and sent to an endpoint of its own, requests.ts);
 * anything else is carried as bytes to one
 * endpoint, with the AuthorizationPolicies that target the waypoint or the
 * Service checked on L4 (their HTTP fields fail closed). Upstream it tunnels
 * over HBONE to the endpoint's node agent as itself, the only identity that
 * agent admits for a waypoint-bound workload.
 */
export class WaypointProxy {
  private readonly resolver: Resolver;
  private readonly accepted = new WeakMap<TunnelRequest, Accepted>();
  private readonly reports = new WeakMap<TunnelRequest, (d: ConnectionOutcome) => void>();
  private readonly gate: RequestGate;
  private readonly http1: Http1Proxy;
  private readonly http2: Http2Proxy;

  constructor(private readonly o: WaypointProxyOptions) {
    this.resolver = new Resolver(o.state, o.balancer);
    const gate = (this.gate = new RequestGate({
      policies: (c) => o.state.waypointPolicies(o.waypoint, c.service),
      endpoint: (c) => this.resolver.resolve(c.destination.host, c.destination.port),
      metrics: o.requests,
      log: o.accessLog,
    }));
    const open = (t: Target) => this.open(t);
    const exchange = new Exchange({
      gate,
      routes: new RouteTable({ get generation() { return o.state.generation; }, routes: () => o.state.all('Route') }),
      state: o.state,
      resilience: new Resilience((service, port) => this.resolver.endpoints(service, port), o.state),
      tracing: o.tracing,
      upstream: { 'http/1.1': new Http1Upstream(open), h2: new Http2Upstream(open, o.log) },
      reset: resetResponse,
      log: o.log,
    });
    this.http1 = new Http1Proxy({ exchange, gate, open, log: o.accessLog });
    this.http2 = new Http2Proxy({ exchange, log: o.accessLog });
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
    // and target port) at the waypoint as at a node agent. A Service without one is still
    // served: its routes may send its requests to other Services.
    const picked = this.resolver.resolve(host, port);
    const endpoint: Target = 'error' in picked ? { ip: host, port, workload: undefined, service } : picked;
    const unresolved = 'error' in picked ? picked.error : undefined;
    const connection: HttpConnection = {
      principal: req.peer.uri.replace(/^spiffe:\/\//, ''),
      source: src.value,
      sourceIp: src.value?.ip ?? req.sourceAddress.address,
      service,
      destination: { host, port },
    };
    const policies = state.waypointPolicies(waypoint, service);
    const deferred = policies.some(needsRequest);
    if (!deferred) {
      const decision = this.gate.decide(policies, connection, endpoint);
      if (!decision.allowed) return deny(403, denialReason(decision));
    }
    this.accepted.set(req, { connection, endpoint, unresolved, policies, deferred });
    return { allow: true };
  }

  /**
   * The tunnel is joined to one end of an in-process pair; the waypoint reads the other end
   * (HTTP, or bytes to carry), so the HBONE server splices and counts it like any socket.
   */
  private async connectUpstream(req: TunnelRequest): Promise<Result<Duplex, Error>> {
    const accepted = this.accepted.get(req);
    if (!accepted) return fail(new AmbitError('AMBIT_ERR_UPSTREAM_CONNECT', 'bug: a tunnel reached connectUpstream without being authorized'));
    const release = this.resolver.track(accepted.endpoint.ip);
    const report = this.o.telemetry.open(this.view(req, accepted, accepted.endpoint.workload));
    this.reports.set(req, (d) => (release(), report(d)));
    const [tunnelSide, waypointSide] = duplexPair();
    this.serve(waypointSide, accepted).catch((err: unknown) => {
      this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'bug: serving a tunnel failed');
      waypointSide.destroy();
    });
    return ok(tunnelSide);
  }

  private async serve(downstream: Duplex, a: Accepted): Promise<void> {
    const port = a.connection.service?.ports.find((p) => p.port === a.connection.destination.port);
    const declared = protocolOf(port);
    const protocol = declared === 'unknown' ? await sniff(downstream) : declared;
    if (protocol === 'http1') return this.http1.serve(downstream, a.connection);
    if (protocol === 'http2') return this.http2.serve(downstream, a.connection);
    if (a.deferred) {
      const decision = this.gate.decide(a.policies, a.connection, a.endpoint);
      if (!decision.allowed) {
        this.o.log.info({ peer: a.connection.principal, dst: `${a.connection.destination.host}:${a.connection.destination.port}`, reason: denialReason(decision), protocol }, 'connection refused: not HTTP, so its policies are read on L4');
        downstream.destroy();
        return;
      }
    }
    if (a.unresolved) {
      this.o.log.info({ dst: `${a.connection.destination.host}:${a.connection.destination.port}`, reason: a.unresolved, protocol }, 'connection closed: no endpoint to carry it to');
      downstream.destroy();
      return;
    }
    const upstream = await this.open(a.endpoint);
    if (!upstream.ok) {
      this.o.log.info({ dst: `${a.endpoint.ip}:${a.endpoint.port}`, err: upstream.error.message }, 'upstream connect failed');
      downstream.destroy();
      return;
    }
    await splice(upstream.value, downstream);
  }

  /** A byte stream to an endpoint: plain TCP outside the mesh, else HBONE to its node agent as the waypoint. */
  private async open(endpoint: Target): Promise<Result<Duplex, Error>> {
    const dst = endpoint.workload;
    if (!dst?.meshed) {
      const r = await connectTcp({ host: endpoint.ip, port: endpoint.port, family: 4 });
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
      destination: `${endpoint.ip}:${endpoint.port}`,
      via: `${nodeIp}:${this.o.hbonePort}`,
      expectedServerIdentity: dst.identity,
      ...(sni ? { serverName: sni } : {}),
    });
    return r.ok ? ok(r.value.stream) : fail(r.error);
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
    const service = accepted?.connection.service;
    return {
      reporter: 'waypoint',
      source: { ip: accepted?.connection.sourceIp ?? req.sourceAddress.address, workload: accepted?.connection.source, principal: req.peer.uri.replace(/^spiffe:\/\//, '') },
      destination: { ip: req.destination.host, port: req.destination.port, workload: endpoint, ...(service ? { service: `${service.name}.${service.namespace}.svc.cluster.local` } : {}) },
      security: 'mutual_tls',
    };
  }
}
