import { histogramQuantile, type SeriesRate } from './window.js';

/**
 * The service graph from the mesh's own metrics (SPEC "Metrics"): nodes are
 * workloads and Services, edges carry request rate, error rate and p99 (from
 * the waypoints' request metrics) and connection and byte rates (from the
 * node agents' TCP metrics), with the connection security seen on each.
 *
 * Where each hop is counted:
 * - HTTP through a waypoint (`reporter="waypoint"`): client workload ->
 *   Service, and Service -> the workload that served it, so the split of a
 *   weighted route shows as the Service's outgoing edges.
 * - TCP where the connection lands (`reporter="destination"`, as Kiali
 *   does), so no connection is counted twice. A connection from a waypoint
 *   is the waypoint's hop to a backend: drawn Service -> workload, not from
 *   the waypoint, since the waypoint is how the Service is served rather than
 *   a caller of its own (and left out when it names only the endpoint's
 *   address, which is the HTTP edge's hop already).
 */

export const REQUESTS = 'ambit_requests_total';
export const DURATION_BUCKET = 'ambit_request_duration_milliseconds_bucket';
export const TCP_OPENED = 'ambit_tcp_connections_opened_total';
export const TCP_SENT = 'ambit_tcp_sent_bytes_total';
export const TCP_RECEIVED = 'ambit_tcp_received_bytes_total';
/** The series the graph reads; the scraper keeps only these. */
export const GRAPH_METRICS: ReadonlySet<string> = new Set([REQUESTS, DURATION_BUCKET, TCP_OPENED, TCP_SENT, TCP_RECEIVED]);

export type NodeKind = 'workload' | 'service' | 'unknown';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  namespace: string | undefined;
  name: string;
}

export type Security = 'mutual_tls' | 'none' | 'mixed';

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** `http` once a waypoint counted requests on it; `tcp` for bytes only. */
  protocol: 'http' | 'tcp';
  requestsPerSecond: number;
  /** Share of requests answered 5xx (or with no response at all), 0..1; undefined without requests. */
  errorRate: number | undefined;
  /** 99th percentile of request duration in milliseconds, from the histogram's buckets. */
  p99Ms: number | undefined;
  /** Requests per second by response code. */
  responseCodes: Record<string, number>;
  connectionsPerSecond: number;
  bytesPerSecond: number;
  security: Security;
}

export interface ServiceGraph {
  windowSeconds: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphContext {
  /** Whether a principal (`<td>/ns/<ns>/sa/<sa>`) is a waypoint proxy's. */
  isWaypointPrincipal(principal: string): boolean;
}

const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== 'unknown';

const workloadNode = (namespace: string | undefined, name: string | undefined): GraphNode =>
  known(name) ? { id: `workload:${namespace}/${name}`, kind: 'workload', namespace, name } : { id: 'unknown', kind: 'unknown', namespace: undefined, name: 'unknown' };

/** `name.namespace.svc[.cluster-domain]`, as the proxies label it; anything else (an address) stands as it is. */
export function serviceNode(destinationService: string): GraphNode {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\..*)?$/.exec(destinationService);
  return m ? { id: `service:${m[2]}/${m[1]}`, kind: 'service', namespace: m[2], name: m[1]! } : { id: `service:${destinationService}`, kind: 'service', namespace: undefined, name: destinationService };
}

const isError = (code: string) => code === '0' || code === '' || Number(code) >= 500;

interface EdgeAcc {
  edge: GraphEdge;
  errors: number;
  buckets: Map<number, number>;
  securities: Set<string>;
}

export function buildGraph(rates: readonly SeriesRate[], windowSeconds: number, ctx: GraphContext): ServiceGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, EdgeAcc>();
  const edge = (from: GraphNode, to: GraphNode): EdgeAcc => {
    nodes.set(from.id, from);
    nodes.set(to.id, to);
    const id = `${from.id}->${to.id}`;
    let acc = edges.get(id);
    if (!acc) {
      acc = {
        edge: { id, source: from.id, target: to.id, protocol: 'tcp', requestsPerSecond: 0, errorRate: undefined, p99Ms: undefined, responseCodes: {}, connectionsPerSecond: 0, bytesPerSecond: 0, security: 'none' },
        errors: 0,
        buckets: new Map(),
        securities: new Set(),
      };
      edges.set(id, acc);
    }
    return acc;
  };

  for (const { name, labels: l, rate } of rates) {
    if (rate <= 0) continue;
    const service = serviceNode(l['destination_service'] ?? 'unknown');
    const dest = known(l['destination_workload']) ? workloadNode(l['destination_workload_namespace'], l['destination_workload']) : undefined;
    if (name === REQUESTS || name === DURATION_BUCKET) {
      if (l['reporter'] !== 'waypoint') continue;
      const hops = [edge(workloadNode(l['source_workload_namespace'], l['source_workload']), service), ...(dest ? [edge(service, dest)] : [])];
      for (const acc of hops) {
        acc.edge.protocol = 'http';
        acc.securities.add(l['connection_security_policy'] ?? 'none');
        if (name === REQUESTS) {
          const code = l['response_code'] ?? '';
          acc.edge.requestsPerSecond += rate;
          acc.edge.responseCodes[code] = (acc.edge.responseCodes[code] ?? 0) + rate;
          if (isError(code)) acc.errors += rate;
        } else {
          const le = l['le'] === '+Inf' ? Infinity : Number(l['le']);
          if (!Number.isNaN(le)) acc.buckets.set(le, (acc.buckets.get(le) ?? 0) + rate);
        }
      }
      continue;
    }
    if (l['reporter'] !== 'destination') continue;
    const viaWaypoint = ctx.isWaypointPrincipal(l['source_principal'] ?? '');
    // A waypoint dials the chosen endpoint itself, so its hop names an address, not the Service: that hop is the HTTP edge's, or unknown.
    const hops = viaWaypoint ? (dest && service.namespace !== undefined ? [edge(service, dest)] : []) : [edge(workloadNode(l['source_workload_namespace'], l['source_workload']), service), ...(dest ? [edge(service, dest)] : [])];
    for (const acc of hops) {
      acc.securities.add(l['connection_security_policy'] ?? 'none');
      if (name === TCP_OPENED) acc.edge.connectionsPerSecond += rate;
      else acc.edge.bytesPerSecond += rate;
    }
  }

  for (const acc of edges.values()) {
    const e = acc.edge;
    if (e.requestsPerSecond > 0) e.errorRate = acc.errors / e.requestsPerSecond;
    e.p99Ms = histogramQuantile(0.99, acc.buckets);
    e.security = acc.securities.size > 1 ? 'mixed' : ((acc.securities.values().next().value ?? 'none') as Security);
  }
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { windowSeconds, nodes: [...nodes.values()].sort(byId), edges: [...edges.values()].map((a) => a.edge).sort(byId) };
}
