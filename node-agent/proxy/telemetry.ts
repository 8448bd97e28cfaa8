import type { Logger } from '../../lib/log.js';
import type { Workload } from '../../lib/xds/index.js';
import type { AgentMetrics, TcpLabels } from '../admin/metrics.js';

/** Both ends of one proxied connection, as metrics and access logs name them. */
export interface ConnectionView {
  reporter: 'source' | 'destination' | 'waypoint';
  source: { ip: string; port?: number; workload?: Workload | undefined; principal?: string | undefined };
  destination: { ip: string; port: number; workload?: Workload | undefined; service?: string | undefined };
  /** Where the client was connecting to (a ClusterIP, say), as the redirect recorded it. */
  originalDestination?: { ip: string; port: number };
  security: 'mutual_tls' | 'none';
}

const principalOf = (w: Workload | undefined, fallback?: string) =>
  fallback ?? (w?.identity ? w.identity.replace(/^spiffe:\/\//, '') : 'unknown');

export function labelsOf(c: ConnectionView, flags = '-'): TcpLabels {
  return {
    reporter: c.reporter,
    source_workload: c.source.workload?.workloadName ?? 'unknown',
    source_workload_namespace: c.source.workload?.namespace ?? 'unknown',
    source_principal: c.security === 'mutual_tls' ? principalOf(c.source.workload, c.source.principal) : 'unknown',
    destination_workload: c.destination.workload?.workloadName ?? 'unknown',
    destination_workload_namespace: c.destination.workload?.namespace ?? 'unknown',
    destination_service: c.destination.service ?? `${c.destination.ip}:${c.destination.port}`,
    destination_principal: c.destination.workload?.meshed ? principalOf(c.destination.workload) : 'unknown',
    connection_security_policy: c.security,
    response_flags: flags,
  };
}

export interface ConnectionOutcome {
  received: number;
  sent: number;
  error?: string | undefined;
  /** Envoy-style response flags: UF (upstream connect failure), UR (reset), DENY. */
  flags?: string;
}

/** The four counters of one label set, resolved once (prom-client hashes a label object on every inc). */
interface Series {
  labels: TcpLabels;
  opened: { inc(v?: number): void };
  closed: { inc(v?: number): void };
  received: { inc(v?: number): void };
  sent: { inc(v?: number): void };
}

/** What a view's labels depend on, as one string: the same key, the same label set. */
function seriesKey(c: ConnectionView, flags: string): string {
  const w = (x: Workload | undefined) => (x ? x.uid : '');
  return [c.reporter, w(c.source.workload), c.source.principal ?? '', w(c.destination.workload), c.destination.workload ? '' : `${c.destination.ip}:${c.destination.port}`, c.destination.service ?? '', c.security, flags].join('|');
}

/**
 * Reports connections: counted open at once, closed with their bytes and
 * one access-log line when done. `received` is bytes from the client
 * (request direction), `sent` bytes to it, as Istio counts them. Label sets
 * are built once per config generation (names come from the pushed
 * workloads), not per connection.
 */
export class Telemetry {
  private series = new Map<string, Series>();
  private seriesGeneration = -1;

  constructor(
    readonly metrics: AgentMetrics,
    private readonly accessLog: Logger,
    /** The config generation the cached label sets belong to. */
    private readonly generation: () => number = () => 0,
  ) {}

  private seriesOf(view: ConnectionView, flags: string): Series {
    if (this.seriesGeneration !== this.generation()) {
      this.series = new Map();
      this.seriesGeneration = this.generation();
    }
    const key = seriesKey(view, flags);
    let s = this.series.get(key);
    if (!s) {
      const labels = labelsOf(view, flags);
      const m = this.metrics;
      s = { labels, opened: m.opened.labels(labels), closed: m.closed.labels(labels), received: m.received.labels(labels), sent: m.sent.labels(labels) };
      this.series.set(key, s);
    }
    return s;
  }

  open(view: ConnectionView): (done: ConnectionOutcome) => void {
    const started = Date.now();
    const { accessLog } = this;
    this.seriesOf(view, '-').opened.inc();
    return ({ received, sent, error, flags }) => {
      const series = this.seriesOf(view, flags ?? (error ? 'UF' : '-'));
      const labels = series.labels;
      series.closed.inc();
      series.received.inc(received);
      series.sent.inc(sent);
      accessLog.info({
        reporter: view.reporter,
        src: {
          ip: view.source.ip,
          port: view.source.port,
          workload: view.source.workload?.workloadName,
          namespace: view.source.workload?.namespace,
          pod: view.source.workload?.name,
          principal: labels.source_principal,
        },
        dst: {
          ip: view.destination.ip,
          port: view.destination.port,
          workload: view.destination.workload?.workloadName,
          namespace: view.destination.workload?.namespace,
          service: view.destination.service,
          principal: labels.destination_principal,
        },
        ...(view.originalDestination ? { original_dst: view.originalDestination } : {}),
        security: view.security,
        bytes_received: received,
        bytes_sent: sent,
        duration_ms: Date.now() - started,
        result: error ? 'error' : 'ok',
        ...(error ? { error, response_flags: labels.response_flags } : {}),
      });
    };
  }
}
