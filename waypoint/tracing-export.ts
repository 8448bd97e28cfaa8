/**
 * The exporting half of waypoint/tracing.ts, imported only when an endpoint is
 * configured: one SERVER span per request through the OpenTelemetry SDK
 * (BasicTracerProvider, BatchSpanProcessor, OTLP/HTTP protobuf exporter), with
 * the attributes of the OTel HTTP semantic conventions and Ambit's own. The
 * provider belongs to the worker that made it; nothing global is registered.
 */
import http from 'node:http';
import https from 'node:https';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { HopTrace, incomingTrace, type RequestHeaders, type RequestTrace, type TraceOutcome, type Tracing, type TracingIdentity, type TracingOptions } from './tracing.js';
import { newSpanId, newTraceId } from './tracing-context.js';

/**
 * Attribute names. The `http`, `url`, `server`, `client`, `network`, `error`
 * and `user_agent` ones are the OTel HTTP semantic conventions (stable; a test
 * checks them against @opentelemetry/semantic-conventions, which is too large
 * to load in every worker for a few strings); the resource ones are the
 * service and k8s conventions; `ambit.*` are Ambit's.
 */
export const ATTR = {
  method: 'http.request.method',
  methodOriginal: 'http.request.method_original',
  status: 'http.response.status_code',
  scheme: 'url.scheme',
  path: 'url.path',
  query: 'url.query',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  protocolVersion: 'network.protocol.version',
  errorType: 'error.type',
  userAgent: 'user_agent.original',
  responseFlags: 'ambit.response_flags',
  sourcePrincipal: 'ambit.source.principal',
  sourceWorkload: 'ambit.source.workload',
  sourceNamespace: 'ambit.source.namespace',
  destinationPrincipal: 'ambit.destination.principal',
  destinationWorkload: 'ambit.destination.workload',
  destinationNamespace: 'ambit.destination.namespace',
  route: 'ambit.route.name',
  routeRule: 'ambit.route.rule',
  upstreamAddress: 'ambit.upstream.address',
  retries: 'ambit.upstream.retries',
} as const;

export const RESOURCE_ATTR = {
  serviceName: 'service.name',
  serviceNamespace: 'service.namespace',
  namespace: 'k8s.namespace.name',
  pod: 'k8s.pod.name',
  node: 'k8s.node.name',
  waypoint: 'ambit.waypoint.name',
} as const;

export const SERVICE_NAME = 'ambit-waypoint';

/** The methods semconv names; any other is `_OTHER` (the original goes in `http.request.method_original`). */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** Query parameters whose values semconv says to redact (signed-URL credentials). */
const REDACTED_QUERY = /(^|&)(AWSAccessKeyId|Signature|sig|X-Goog-Signature)=[^&]*/g;

/** `{method} {target}` (semconv), the target being the Service addressed: the waypoint has no route template. */
export function spanName(method: string, service: string): string {
  return `${KNOWN_METHODS.has(method) ? method : 'HTTP'} ${service}`;
}

/** The span's attributes for one outcome. */
export function spanAttributes(o: TraceOutcome): Attributes {
  const known = KNOWN_METHODS.has(o.method);
  const q = o.target.indexOf('?');
  const a: Attributes = {
    [ATTR.method]: known ? o.method : '_OTHER',
    [ATTR.scheme]: 'http',
    [ATTR.path]: q < 0 ? o.target : o.target.slice(0, q),
    [ATTR.serverAddress]: o.service,
    [ATTR.protocolVersion]: o.protocol === 'h2' ? '2' : '1.1',
    [ATTR.responseFlags]: o.flags,
    [ATTR.sourcePrincipal]: o.source.principal,
  };
  if (!known) a[ATTR.methodOriginal] = o.method;
  if (q >= 0) a[ATTR.query] = o.target.slice(q + 1).replace(REDACTED_QUERY, '$1$2=REDACTED');
  if (o.port !== undefined) a[ATTR.serverPort] = o.port;
  if (o.code > 0) a[ATTR.status] = o.code;
  const errorType = errorTypeOf(o);
  if (errorType !== undefined) a[ATTR.errorType] = errorType;
  if (o.source.ip !== undefined) a[ATTR.clientAddress] = o.source.ip;
  if (o.userAgent !== undefined) a[ATTR.userAgent] = o.userAgent;
  if (o.source.workload !== undefined) a[ATTR.sourceWorkload] = o.source.workload;
  if (o.source.namespace !== undefined) a[ATTR.sourceNamespace] = o.source.namespace;
  if (o.destination?.principal !== undefined) a[ATTR.destinationPrincipal] = o.destination.principal;
  if (o.destination?.workload !== undefined) a[ATTR.destinationWorkload] = o.destination.workload;
  if (o.destination?.namespace !== undefined) a[ATTR.destinationNamespace] = o.destination.namespace;
  if (o.route !== undefined) {
    a[ATTR.route] = o.route.name;
    if (o.route.rule !== undefined) a[ATTR.routeRule] = o.route.rule;
  }
  if (o.upstream !== undefined) a[ATTR.upstreamAddress] = o.upstream;
  if (o.retries !== undefined) a[ATTR.retries] = o.retries;
  return a;
}

/** semconv: the status code for a 5xx; otherwise the failure's own reason, if it failed. A server's 4xx is no error. */
function errorTypeOf(o: TraceOutcome): string | undefined {
  return o.code >= 500 ? String(o.code) : o.error;
}

/** A hop with a span: recorded when sampled, else only its ids (a non-recording span). */
class SpanTrace extends HopTrace {
  private span: Span | undefined;

  constructor(span: Span, tracestate: string | undefined) {
    const c = span.spanContext();
    super(c.traceId, c.spanId, (c.traceFlags & TraceFlags.SAMPLED) !== 0, tracestate);
    this.span = span.isRecording() ? span : undefined;
  }

  override end(o: TraceOutcome, endTime?: number): void {
    const span = this.span;
    if (!span) return;
    this.span = undefined;
    try {
      span.updateName(spanName(o.method, o.service));
      span.setAttributes(spanAttributes(o));
      if (errorTypeOf(o) !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(endTime);
    } catch {
      // A span is telemetry: it never fails a request.
    }
  }
}

/** How often a collector that keeps failing is logged about. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The exporter, watched: the SDK reports failed exports only to its global
 * diagnostic logger, which nothing reads, so an operator would never learn
 * that the collector is unreachable. The first failure is logged, then at most
 * one line a minute with the count, and the recovery.
 */
function watched(exporter: SpanExporter, endpoint: string, log: TracingOptions['log'], now: () => number = Date.now): SpanExporter {
  let failedSpans = 0;
  let loggedAt = -Infinity;
  return {
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      exporter.export(spans, (r) => {
        if (r.code === ExportResultCode.SUCCESS) {
          if (failedSpans > 0) log?.warn({ endpoint, lostSpans: failedSpans }, 'span export works again');
          failedSpans = 0;
          loggedAt = -Infinity;
        } else {
          failedSpans += spans.length;
          if (now() - loggedAt >= FAILURE_LOG_INTERVAL_MS) {
            loggedAt = now();
            log?.warn(
              { code: 'AMBIT_ERR_TRACING_EXPORT', endpoint, err: r.error?.message, lostSpans: failedSpans },
              'span export failed: is the collector at AMBIT_TRACING_ENDPOINT running and reachable? (requests are not affected; logged at most once a minute)',
            );
          }
        }
        done(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

export function exportingTracing(cfg: { endpoint: string; samplePercent: number }, identity: TracingIdentity, o: TracingOptions): Tracing {
  const maxQueueSize = o.maxQueueSize ?? 2048;
  const maxExportBatchSize = Math.min(o.maxExportBatchSize ?? 512, maxQueueSize);
  const exportTimeoutMs = o.exportTimeoutMs ?? 5_000;
  // Our own agent, so that shutdown can close its kept-alive sockets (the exporter leaves them open).
  const agent = cfg.endpoint.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const exporter = new OTLPTraceExporter({
    url: cfg.endpoint,
    timeoutMillis: exportTimeoutMs,
    // A flush (on shutdown) sends every queued batch at once; none may be refused for concurrency.
    concurrencyLimit: Math.ceil(maxQueueSize / maxExportBatchSize) + 1,
    httpAgentOptions: () => agent,
  });
  const processor = new BatchSpanProcessor(watched(exporter, cfg.endpoint, o.log), {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: o.scheduledDelayMs ?? 5_000,
    // Longer than the exporter's own deadline (retries included), so that it gives up first
    // and no batch is still held by the exporter once the processor moves on.
    exportTimeoutMillis: exportTimeoutMs + 1_000,
  });
  const resource = defaultResource().merge(
    resourceFromAttributes({
      [RESOURCE_ATTR.serviceName]: SERVICE_NAME,
      [RESOURCE_ATTR.serviceNamespace]: identity.namespace,
      [RESOURCE_ATTR.namespace]: identity.namespace,
      [RESOURCE_ATTR.pod]: identity.podName,
      [RESOURCE_ATTR.waypoint]: identity.name,
      ...(identity.nodeName ? { [RESOURCE_ATTR.node]: identity.nodeName } : {}),
    }),
  );
  const provider = new BasicTracerProvider({
    resource,
    // New traces: the configured share; continued ones: the caller's sampled flag.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.samplePercent / 100) }),
    spanProcessors: [processor],
    idGenerator: { generateTraceId: newTraceId, generateSpanId: newSpanId },
  });
  const tracer: Tracer = provider.getTracer(SERVICE_NAME);
  let stopped: Promise<void> | undefined;

  return {
    exporting: true,
    begin(headers: RequestHeaders, startTime?: number): RequestTrace {
      const { parent, tracestate } = incomingTrace(headers);
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.parentId, traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true })
        : ROOT_CONTEXT;
      // Named once the request is over (`end`); samplers here do not read names.
      const span = tracer.startSpan('HTTP', startTime === undefined ? { kind: SpanKind.SERVER } : { kind: SpanKind.SERVER, startTime }, context);
      return new SpanTrace(span, tracestate);
    },
    shutdown() {
      stopped ??= provider
        .shutdown()
        .catch((err: unknown) => o.log?.warn({ code: 'AMBIT_ERR_TRACING_EXPORT', endpoint: cfg.endpoint, err: err instanceof Error ? err.message : String(err) }, 'spans still queued at shutdown were not exported'))
        .finally(() => agent.destroy());
      return stopped;
    },
  };
}
