import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../lib/log.js';
import { authorize, denialReason, principalNamespace, type Decision, type PolicyRef } from '../lib/policy/index.js';
import type { Service, Workload } from '../lib/xds/index.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import type { RequestLabels, RequestMetrics } from './metrics.js';
import type { RequestTrace } from './tracing.js';

/** One downstream connection the waypoint reads as HTTP: who sent it, and what it addressed. */
export interface HttpConnection {
  /** `cluster.local/ns/NS/sa/SA`, from the client's certificate. */
  principal: string;
  source: Workload | undefined;
  sourceIp: string;
  /** The Service the client addressed, if it used a ClusterIP. */
  service: Service | undefined;
  /** What the client dialled (`:authority` of the tunnel). */
  destination: { host: string; port: number };
}

/** What policy, metrics and logs read of one request, whatever its HTTP version. */
export interface RequestLine {
  protocol: 'http/1.1' | 'h2';
  method: string;
  path: string;
  authority: string;
  headers: IncomingHttpHeaders;
}

/**
 * Let through, or refused with this answer. `endpoint` is what policy read as the destination:
 * an endpoint of the addressed Service (its pod address and target port, as a node agent reads
 * them), or the address dialled when the Service has none; routing picks the real one later.
 */
export type Admission = { ok: true; endpoint: Target; unresolved?: string } | { ok: false; status: number; body: string; flags: string; endpoint?: Target; policy?: string };

/** How one request ended, for `report`. */
export interface RequestOutcome {
  code: number;
  flags: string;
  endpoint: Target | undefined;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  extra?: Record<string, unknown>;
  /** The request's part in its trace: ended here, with what the metrics and log say. */
  trace?: RequestTrace;
  /** The route rule that matched (`<namespace>/<route>/<rule>`). */
  route?: string;
  retries?: number;
}

export interface RequestGateOptions {
  /** The AuthorizationPolicies the waypoint enforces on a connection. */
  policies(c: HttpConnection): readonly PolicyRef[];
  /** An endpoint of the addressed Service for policy to read, or why there is none. */
  endpoint(c: HttpConnection): Target | { error: string };
  metrics: RequestMetrics;
  /** The access log: one line per request. */
  log: Logger;
}

const principalOf = (w: Workload | undefined) => (w?.identity ? w.identity.replace(/^spiffe:\/\//, '') : 'unknown');

/**
 * What every HTTP request passes at the waypoint, HTTP/1.1 and HTTP/2 alike: the
 * AuthorizationPolicies with its method, path, host and headers (a denial is 403 `RBAC: access
 * denied (why)`), and once it is over one count in the request metrics and one access-log line.
 */
export class RequestGate {
  constructor(private readonly o: RequestGateOptions) {}

  admit(r: RequestLine, c: HttpConnection): Admission {
    const picked = this.o.endpoint(c);
    const endpoint: Target = 'error' in picked ? { ip: c.destination.host, port: c.destination.port, workload: undefined, service: c.service } : picked;
    const decision = this.decide(this.o.policies(c), c, endpoint, r);
    if (decision.allowed) return { ok: true, endpoint, ...('error' in picked ? { unresolved: picked.error } : {}) };
    return { ok: false, status: 403, body: `RBAC: access denied (${denialReason(decision)})\n`, flags: 'RBAC', endpoint, ...(decision.policy ? { policy: decision.policy } : {}) };
  }

  /**
   * The policies' verdict on a connection to `endpoint`, and on `request` when there is one;
   * without one (a connection that is not HTTP) their HTTP fields fail closed.
   */
  decide(policies: readonly PolicyRef[], c: HttpConnection, endpoint: Target, request?: RequestLine): Decision {
    const conn = { sourcePrincipal: c.principal, sourceNamespace: principalNamespace(c.principal), sourceIp: c.source?.ip, destinationIp: endpoint.ip, destinationPort: endpoint.port };
    const decision = authorize(policies, conn, request && { method: request.method, path: request.path, host: request.authority, headers: request.headers });
    if (decision.audited.length) this.o.log.info({ audited: decision.audited, principal: c.principal, dst: `${c.destination.host}:${c.destination.port}`, method: request?.method, path: request?.path }, 'AUDIT policy matched');
    return decision;
  }

  report(c: HttpConnection, r: RequestLine, o: RequestOutcome): void {
    const service = c.service ? `${c.service.name}.${c.service.namespace}.svc.cluster.local` : `${c.destination.host}:${c.destination.port}`;
    const w = o.endpoint?.workload;
    const destinationPrincipal = w?.meshed ? principalOf(w) : 'unknown';
    const labels = (): RequestLabels => ({
      reporter: 'waypoint',
      source_workload: c.source?.workloadName ?? 'unknown',
      source_workload_namespace: c.source?.namespace ?? 'unknown',
      source_principal: c.principal,
      destination_workload: w?.workloadName ?? 'unknown',
      destination_workload_namespace: w?.namespace ?? 'unknown',
      destination_service: service,
      destination_principal: destinationPrincipal,
      connection_security_policy: 'mutual_tls',
      response_code: String(o.code),
      response_flags: o.flags,
    });
    // Everything the labels are made of, as one key.
    const key = [c.source?.workloadName, c.source?.namespace, c.principal, w?.workloadName, w?.namespace, service, destinationPrincipal, o.code, o.flags].join('|');
    this.o.metrics.record(key, labels, o.durationMs, o.requestBytes, o.responseBytes);
    this.o.log.info({
      reporter: 'waypoint',
      protocol: r.protocol,
      method: r.method,
      path: r.path,
      authority: r.authority,
      response_code: o.code,
      response_flags: o.flags,
      src: { ip: c.sourceIp, workload: c.source?.workloadName, namespace: c.source?.namespace, principal: c.principal },
      dst: { service, ip: o.endpoint?.ip, port: o.endpoint?.port, workload: w?.workloadName, principal: destinationPrincipal },
      bytes_received: o.requestBytes,
      bytes_sent: o.responseBytes,
      duration_ms: o.durationMs,
      ...(o.trace ? { trace_id: o.trace.traceId, span_id: o.trace.spanId } : {}),
      ...o.extra,
    });
    if (!o.trace) return;
    const [routeNs, routeName, rule] = o.route?.split('/') ?? [];
    o.trace.end({
      method: r.method,
      target: r.path,
      protocol: r.protocol,
      service,
      port: c.destination.port,
      code: o.code,
      flags: o.flags,
      ...(typeof o.extra?.['error'] === 'string' ? { error: o.extra['error'] } : {}),
      source: { principal: c.principal, ...(c.source ? { workload: c.source.workloadName, namespace: c.source.namespace } : {}), ip: c.sourceIp },
      destination: { principal: destinationPrincipal, ...(w ? { workload: w.workloadName, namespace: w.namespace } : {}) },
      ...(o.route ? { route: { name: `${routeNs}/${routeName}`, ...(rule ? { rule } : {}) } } : {}),
      ...(o.endpoint ? { upstream: `${o.endpoint.ip}:${o.endpoint.port}` } : {}),
      retries: o.retries ?? 0,
      ...(typeof r.headers['user-agent'] === 'string' ? { userAgent: r.headers['user-agent'] } : {}),
    });
  }
}
