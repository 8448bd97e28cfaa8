/**
 * Tracing at the waypoint. Two parts:
 *
 * - W3C Trace Context, always on: every request's hop gets a span id of its
 *   own, and the request sent upstream carries `traceparent` with the incoming
 *   trace id (a new one when none valid arrived) and that span id as its parent,
 *   and the incoming `tracestate` unchanged. Responses carry neither. It costs a
 *   header parse and a random id per request (see `bench/tracing.ts`).
 * - Export, off unless AMBIT_TRACING_ENDPOINT is set: one SERVER span per hop
 *   to an OTLP/HTTP collector through the OpenTelemetry SDK, batched, its queue
 *   bounded. The SDK is loaded only then.
 *
 * Nothing is registered with the OpenTelemetry global API: each worker thread
 * creates its own `Tracing` (provider, processor, exporter) and the tracer is
 * passed around explicitly.
 */
import type { Logger } from '../lib/log.js';
import type { TracingConfig } from './config.js';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, tracestateOf, type HeaderValue, type TraceParent } from './tracing-context.js';

/** Headers as Node gives them (HTTP/1.1 and HTTP/2), names lowercase. */
export type RequestHeaders = Readonly<Record<string, HeaderValue>>;

/**
 * The trace headers of the request forwarded upstream. They replace the ones it
 * came with: set `traceparent`, and set `tracestate` or, when there is none
 * here, remove the incoming one (it belonged to a trace that was restarted).
 */
export interface UpstreamTraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** How one request went, for its span. Plain data, whatever the HTTP version. */
export interface TraceOutcome {
  /** The method as received (`GET`). */
  method: string;
  /** The request target as received: path and query (`/reviews/1?page=2`). */
  target: string;
  protocol: 'http/1.1' | 'h2';
  /** What the client addressed: the Service's host name (`reviews.shop.svc.cluster.local`), or the authority it dialled. */
  service: string;
  port?: number;
  /** The status sent downstream; 0 when none was (the client left, or the upstream broke off before answering). */
  code: number;
  /** Response flags as in the access log (`UF`, `UR`, `RBAC`...), `-` when none. */
  flags: string;
  /** A short, low-cardinality reason when the request failed without a 5xx (`ECONNRESET`); becomes `error.type`. */
  error?: string;
  source: { principal: string; workload?: string; namespace?: string; ip?: string };
  destination?: { principal?: string; workload?: string; namespace?: string };
  /** The HTTPRoute (or GRPCRoute) and its rule, when one matched. */
  route?: { name: string; rule?: string };
  /** The endpoint the request went to last: `ip:port`. */
  upstream?: string;
  /** How many times the request was retried (0: sent once). */
  retries?: number;
  /** `user-agent` of the request. */
  userAgent?: string;
}

/** One request's part in its trace. */
export interface RequestTrace {
  /** The trace it belongs to: the incoming one, or new. */
  readonly traceId: string;
  /** This hop's span: the parent-id the upstream request carries. */
  readonly spanId: string;
  /** The sampled flag sent upstream. */
  readonly sampled: boolean;
  /** The trace headers for the request forwarded upstream (the same for every attempt of a retried request). */
  upstreamHeaders(): UpstreamTraceHeaders;
  /**
   * The request is over (its response finished, or it failed): ends and queues
   * its span when one is recorded. Later calls do nothing. Never throws.
   * `endTime`: epoch milliseconds, default now.
   */
  end(outcome: TraceOutcome, endTime?: number): void;
}

/** A worker's tracing. */
export interface Tracing {
  /** Whether spans are exported (an endpoint is configured). */
  readonly exporting: boolean;
  /**
   * A request arrived with these headers: its trace (continued or new) and
   * this hop's span. `startTime`: its arrival, epoch milliseconds, default now.
   */
  begin(headers: RequestHeaders, startTime?: number): RequestTrace;
  /** Exports what is queued, within the export timeout, then stops exporting. Never rejects; call it on drain. */
  shutdown(): Promise<void>;
}

/** Who the spans come from: the waypoint and its pod (a WaypointConfig is one). */
export interface TracingIdentity {
  /** The Waypoint's namespace and name. */
  namespace: string;
  name: string;
  podName: string;
  nodeName?: string;
}

/** Knobs for tests and for the process that wires it; the defaults suit production. */
export interface TracingOptions {
  /** Warnings about exports that fail (rate-limited). */
  log?: Pick<Logger, 'warn'>;
  /** Spans waiting to be exported, at most; more are dropped (default 2048). */
  maxQueueSize?: number;
  /** Spans per export request, at most (default 512). */
  maxExportBatchSize?: number;
  /** How long a span may wait for a batch to fill (default 5000 ms). */
  scheduledDelayMs?: number;
  /** How long one export, retries included, may take (default 5000 ms); also bounds `shutdown`, which runs inside the pod's grace period after the drain. */
  exportTimeoutMs?: number;
}

/** Continues the incoming trace or starts one; `parent` is undefined for a new trace. (For tracing-export.ts too.) */
export function incomingTrace(headers: RequestHeaders): { parent: TraceParent | undefined; tracestate: string | undefined } {
  const parent = parseTraceparent(headers.traceparent);
  // Restarting a trace drops the old trace's tracestate with it (spec: "Processing Model").
  return { parent, tracestate: parent ? tracestateOf(headers.tracestate) : undefined };
}

/**
 * One hop of a trace: its ids and the headers that carry them upstream. As
 * such it only propagates (its `end` does nothing); the exporting tracing
 * extends it with a span. A trace that starts at a hop that records nothing is
 * not sampled (W3C: the sampled flag "should be set to 0 as the default option
 * when the trace is initiated by this component"); a continued one keeps its
 * caller's flag, which "should be propagated unchanged".
 */
export class HopTrace implements RequestTrace {
  private headers: UpstreamTraceHeaders | undefined;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly sampled: boolean,
    private readonly tracestate: string | undefined,
  ) {}

  upstreamHeaders(): UpstreamTraceHeaders {
    if (!this.headers) {
      const traceparent = formatTraceparent(this.traceId, this.spanId, this.sampled);
      this.headers = this.tracestate === undefined ? { traceparent } : { traceparent, tracestate: this.tracestate };
    }
    return this.headers;
  }

  end(_outcome: TraceOutcome, _endTime?: number): void {}
}

const propagateOnly: Tracing = {
  exporting: false,
  begin(headers) {
    const { parent, tracestate } = incomingTrace(headers);
    return parent ? new HopTrace(parent.traceId, newSpanId(), parent.sampled, tracestate) : new HopTrace(newTraceId(), newSpanId(), false, undefined);
  },
  shutdown: () => Promise.resolve(),
};

/**
 * A worker's tracing: propagation only, or with export when
 * `cfg.endpoint` is set (the OpenTelemetry SDK is imported then, not before).
 */
export async function createTracing(cfg: Readonly<TracingConfig>, identity: TracingIdentity, options: TracingOptions = {}): Promise<Tracing> {
  if (cfg.endpoint === undefined) return propagateOnly;
  const { exportingTracing } = await import('./tracing-export.js');
  return exportingTracing({ endpoint: cfg.endpoint, samplePercent: cfg.samplePercent }, identity, options);
}
