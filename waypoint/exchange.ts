import type http from 'node:http';
import type http2 from 'node:http2';
import type { Logger } from '../lib/log.js';
import { principalNamespace } from '../lib/policy/index.js';
import type { HeaderModifier, RequestMirror, RouteBackend, Service } from '../lib/xds/index.js';
import type { Target } from '../node-agent/proxy/resolve.js';
import type { MeshState } from '../node-agent/state/mesh-state.js';
import { RequestBody } from './body.js';
import type { HttpConnection, RequestGate, RequestLine } from './requests.js';
import { retriable, retryBackoff } from './resilience/retry.js';
import type { Resilience } from './resilience/services.js';
import type { Release, TryOutcome } from './resilience/types.js';
import type { RequestTrace, Tracing } from './tracing.js';
import { modifyHeaders, modifyPath, redirectLocation, type HeaderMap } from './routing/filters.js';
import { NO_MATCH, type RouteChoice, type RouteTable } from './routing/table.js';
import type { Upstream, UpstreamCall, UpstreamHead, UpstreamResponse } from './upstream.js';

/** The downstream side: Node's HTTP/1.1 server objects, or HTTP/2's compatibility ones (the same shape). */
export type ServerRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ServerResponse = http.ServerResponse | http2.Http2ServerResponse;
export type Protocol = RequestLine['protocol'];

export interface ExchangeOptions {
  gate: RequestGate;
  routes: RouteTable;
  state: MeshState;
  resilience: Resilience;
  /** W3C trace context on every request; spans when export is on. */
  tracing: Tracing;
  /** Upstream per protocol: a request goes on in the protocol it came in. */
  upstream: Record<Protocol, Upstream>;
  /** Resets a downstream request whose response has started (there is no status left to send). */
  reset(res: ServerResponse): void;
  log: Logger;
}

/** Request-body bytes kept so that a retry or a mirror can resend them (Envoy buffers this much for retries by default). */
const REPLAY_LIMIT = 64 * 1024;
/** A mirror that has not finished by then is given up: it must never hold resources for long. */
const MIRROR_TIMEOUT_MS = 30_000;

/**
 * Hop-by-hop headers (RFC 9110 7.6.1) and those HTTP/2 forbids (RFC 9113 8.2.2): never
 * forwarded. `te` is kept for HTTP/2, where only `te: trailers` is legal (gRPC sends it).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'host', 'http2-settings']);

export function forwardable(headers: http.IncomingHttpHeaders, protocol: Protocol): HeaderMap {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k) || named.has(k)) continue;
    if (k === 'te' && (protocol !== 'h2' || String(v).toLowerCase() !== 'trailers')) continue;
    out[k] = v;
  }
  return out;
}

/** Envoy's mapping of a local reply to a gRPC status, so gRPC clients read why. */
function grpcStatusOf(status: number): number {
  if (status === 400) return 13; // INTERNAL
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 404) return 12; // UNIMPLEMENTED
  if (status === 504) return 4; // DEADLINE_EXCEEDED
  return 14; // UNAVAILABLE: 429, 502, 503 and the rest
}

const isGrpc = (headers: http.IncomingHttpHeaders) => String(headers['content-type'] ?? '').startsWith('application/grpc');

/** A weighted random pick (Gateway API backendRefs); undefined when every weight is 0. */
function pickBackend(backends: readonly RouteBackend[]): RouteBackend | undefined {
  let total = 0;
  for (const b of backends) total += b.weight;
  if (total === 0) return undefined;
  let at = Math.random() * total;
  for (const b of backends) if ((at -= b.weight) < 0) return b;
  return backends[backends.length - 1];
}

/** One request in flight at the waypoint. */
interface Flight {
  protocol: Protocol;
  req: ServerRequest;
  res: ServerResponse;
  c: HttpConnection;
  line: RequestLine;
  started: number;
  body: RequestBody;
  responseBytes: number;
  /** Response flags so far (Envoy's letters: DI, URX, ...). */
  flags: string[];
  endpoint: Target | undefined;
  route: string | undefined;
  tries: number;
  reported: boolean;
  /** The client went away; set by the response's close. */
  gone: boolean;
  /** Called once when the client goes away. */
  onGone: (() => void) | undefined;
  extra: Record<string, unknown>;
  trace: RequestTrace;
}

/** Where the request goes after routing: a Service port, or one pod the client addressed directly. */
type Destination = { service: Service; port: number } | { pod: Target };

/**
 * What happens to one HTTP request at the waypoint, whatever its version:
 * authorization (requests.ts), the local rate limit, the route (Gateway API
 * HTTPRoute/GRPCRoute: match, redirect, rewrite, header filters, weighted
 * backends, mirrors, timeouts), fault injection, then tries to endpoints with
 * the TrafficPolicy's retries, timeouts, connection-pool limit, outlier
 * detection and load balancing (resilience/), and the response streamed
 * back with its trailers. Every request ends in exactly one metrics count and
 * one access-log line, with Envoy's response flags saying what happened.
 */
export class Exchange {
  constructor(private readonly o: ExchangeOptions) {}

  async handle(protocol: Protocol, req: ServerRequest, res: ServerResponse, c: HttpConnection): Promise<void> {
    const authority = protocol === 'h2' ? ((req as http2.Http2ServerRequest).authority ?? '') : (req.headers.host ?? '');
    const line: RequestLine = { protocol, method: req.method ?? 'GET', path: req.url ?? '/', authority, headers: req.headers };
    const f: Flight = {
      protocol,
      req,
      res,
      c,
      line,
      started: performance.now(),
      body: new RequestBody(req, REPLAY_LIMIT),
      responseBytes: 0,
      flags: [],
      endpoint: undefined,
      route: undefined,
      tries: 0,
      reported: false,
      gone: false,
      onGone: undefined,
      extra: {},
      trace: this.o.tracing.begin(req.headers),
    };
    res.on('close', () => {
      if (res.writableFinished) return;
      f.gone = true;
      f.onGone?.();
      this.finish(f, res.headersSent ? res.statusCode : 0, 'DC');
    });
    try {
      await this.run(f);
    } catch (err) {
      this.o.log.error({ err: err instanceof Error ? err.stack : String(err) }, 'bug: a request failed inside the waypoint');
      this.local(f, 500, 'internal error\n', 'LR');
    }
  }

  private async run(f: Flight): Promise<void> {
    const { c, line } = f;
    const admitted = this.o.gate.admit(line, c);
    if (!admitted.ok) {
      if (admitted.policy) f.extra.policy = admitted.policy;
      return this.local(f, admitted.status, admitted.body, admitted.flags, admitted.endpoint);
    }
    const service = c.service;
    const policy = service?.trafficPolicy ?? null;
    if (service && !this.o.resilience.admit(service)) return this.local(f, 429, 'local_rate_limited\n', 'RL');

    const q = line.path.indexOf('?');
    const path = q < 0 ? line.path : line.path.slice(0, q);
    const query = q < 0 ? '' : line.path.slice(q + 1);
    const choice = service ? this.o.routes.select(service, c.destination.port, { method: line.method, path, query, headers: line.headers, sourceNamespace: principalNamespace(c.principal) ?? '' }) : undefined;
    if (choice === NO_MATCH) return this.local(f, 404, 'no route matched\n', 'NR');
    f.route = choice?.name;
    const filters = choice?.rule.filters ?? [];

    const redirect = filters.find((x) => x.requestRedirect)?.requestRedirect;
    if (redirect) {
      const host = line.authority.replace(/:\d+$/, '');
      const location = redirectLocation(redirect, { scheme: 'http', host, port: c.destination.port, path, query: q < 0 ? '' : line.path.slice(q) }, choice?.prefix);
      return this.local(f, redirect.statusCode || 302, '', '-', undefined, { location });
    }

    if (service && policy?.fault) {
      const fault = this.o.resilience.fault(service);
      if (fault.delayMs > 0) {
        f.flags.push('DI');
        if (!(await this.wait(f, fault.delayMs))) return;
      }
      if (fault.abortStatus > 0) return this.local(f, fault.abortStatus, 'fault filter abort\n', 'FI');
    }

    // The upstream request: the route's filters, in order, then the chosen backend's.
    const headers = forwardable(line.headers, f.protocol);
    // This hop's trace context replaces the client's (a restarted trace drops its tracestate).
    delete headers.tracestate;
    Object.assign(headers, f.trace.upstreamHeaders());
    let upPath = line.path;
    let upAuthority = line.authority;
    const responseFilters: HeaderModifier[] = [];
    for (const x of filters) {
      if (x.requestHeaderModifier) modifyHeaders(headers, x.requestHeaderModifier);
      if (x.responseHeaderModifier) responseFilters.push(x.responseHeaderModifier);
      if (x.urlRewrite) {
        if (x.urlRewrite.hostname) upAuthority = x.urlRewrite.hostname;
        if (x.urlRewrite.path) upPath = modifyPath(x.urlRewrite.path, path, choice?.prefix) + (q < 0 ? '' : line.path.slice(q));
      }
    }
    let destination: Destination;
    if (choice) {
      const backend = pickBackend(choice.rule.backends);
      if (!backend) return this.local(f, 500, `route ${choice.name} has no backend to send to\n`, 'NR');
      if (!backend.ref) return this.local(f, 500, `route ${choice.name}: this backend is not resolved (see the route's ResolvedRefs condition)\n`, 'NR');
      const svc = this.o.state.service(backend.ref.namespace, backend.ref.name);
      if (!svc) return this.local(f, 500, `route ${choice.name}: Service ${backend.ref.namespace}/${backend.ref.name} is not known here\n`, 'NR');
      for (const x of backend.filters) {
        if (x.requestHeaderModifier) modifyHeaders(headers, x.requestHeaderModifier);
        if (x.responseHeaderModifier) responseFilters.push(x.responseHeaderModifier);
      }
      destination = { service: svc, port: backend.ref.port };
    } else if (service) destination = { service, port: c.destination.port };
    else destination = { pod: admitted.endpoint };

    const head: UpstreamHead = { method: line.method, path: upPath, authority: upAuthority, headers };
    for (const x of filters) if (x.requestMirror) this.mirror(f, x.requestMirror, head);
    await this.forward(f, destination, head, choice, (h) => {
      for (const m of responseFilters) modifyHeaders(h, m);
    });
  }

  /** Waits `ms` unless the client leaves first; false when it left. */
  private wait(f: Flight, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const gone = () => {
        clearTimeout(t);
        resolve(false);
      };
      const t = setTimeout(() => {
        if (f.onGone === gone) f.onGone = undefined;
        resolve(true);
      }, ms);
      f.onGone = gone;
    });
  }

  /** The tries: retries and timeouts from the route and the TrafficPolicy, then the response streamed back. */
  private async forward(f: Flight, to: Destination, head: UpstreamHead, choice: RouteChoice | undefined, modifyResponse: (h: HeaderMap) => void): Promise<void> {
    const addressed = f.c.service;
    const retry = this.o.resilience.retries(addressed);
    const requestTimeout = choice?.rule.requestTimeoutMs || addressed?.trafficPolicy?.timeoutMs || 0;
    const tryTimeout = choice?.rule.backendRequestTimeoutMs || retry.perTryTimeoutMs;
    const deadline = requestTimeout > 0 ? f.started + requestTimeout : Infinity;
    const tried = new Set<string>();
    const upstream = this.o.upstream[f.protocol];
    const backoff = retryBackoff();
    const service = 'service' in to ? to.service : undefined;
    /** The retry slot (of the addressed Service's budget) the current try holds, if it is a retry. */
    let retrySlot: Release | undefined;

    for (;;) {
      const endpoint = 'pod' in to ? to.pod : this.o.resilience.pick(to.service, to.port, head.headers, tried);
      if ('error' in endpoint) return this.local(f, 503, `no healthy upstream: ${endpoint.error}\n`, 'UH');
      f.endpoint = endpoint;
      tried.add(`${endpoint.ip}:${endpoint.port}`);
      const release = service ? await this.slot(f, service, deadline) : () => undefined;
      if (release === 'overflow') return this.local(f, 503, 'upstream connection pool overflow\n', 'UO');
      if (release === 'timeout') return this.local(f, 504, 'upstream request timeout (waiting for a connection-pool slot)\n', 'UT');
      if (!release) return;

      f.tries++;
      const learn = service ? this.o.resilience.started(service, endpoint) : undefined;
      const call = upstream.call(endpoint, head);
      if (!f.body.feed(call.body)) {
        call.abort();
        release();
        return this.local(f, 503, 'upstream reset: the request body was too large to resend\n', 'UR');
      }
      const outcome = await this.outcome(f, call, Math.min(deadline, tryTimeout > 0 ? performance.now() + tryTimeout : Infinity));
      retrySlot?.();
      retrySlot = undefined;
      if (f.gone) {
        call.abort();
        return release();
      }
      const tryOutcome: TryOutcome =
        outcome.kind === 'response'
          ? { kind: 'response', status: outcome.response.status, ...(grpcStatusHeader(outcome.response.headers) !== undefined ? { grpcStatus: grpcStatusHeader(outcome.response.headers) } : {}) }
          : outcome.kind === 'refused-stream'
            ? { kind: 'reset', refusedStream: true }
            : { kind: outcome.kind };
      learn?.(tryOutcome);

      const left = deadline - performance.now();
      if (f.tries <= retry.attempts && left > 0 && f.body.replayable && retriable(tryOutcome, retry)) {
        retrySlot = addressed ? this.o.resilience.retrySlot(addressed) : undefined;
        if (retrySlot || !addressed) {
          call.abort();
          if (outcome.kind === 'response') outcome.response.body.resume();
          release();
          if (!(await this.wait(f, Math.min(backoff.next(), left)))) return retrySlot?.();
          continue;
        }
      }
      // No (more) retries: this outcome is the answer (URX: it came after retries).
      const retried = f.tries > 1 ? 'URX' : '';
      if (outcome.kind === 'response') return this.stream(f, call, outcome.response, deadline, tryTimeout, modifyResponse, release);
      release();
      call.abort();
      if (outcome.kind === 'timeout') return this.local(f, 504, 'upstream request timeout\n', ['UT', retried]);
      if (outcome.kind === 'connect-failure') return this.local(f, 503, `upstream connect error: ${outcome.message}\n`, ['UF', retried]);
      return this.local(f, 503, `upstream reset before response: ${outcome.message}\n`, ['UR', retried]);
    }
  }

  /**
   * A connection-pool slot of `service` for one try: at once, after waiting in its queue, or
   * `overflow` when the queue is full; `timeout` when the request's deadline passes while it
   * waits, undefined when the client leaves.
   */
  private async slot(f: Flight, service: Service, deadline: number): Promise<Release | 'overflow' | 'timeout' | undefined> {
    const a = this.o.resilience.acquire(service);
    if (a.kind === 'ready') return a.release;
    if (a.kind === 'overflow') return 'overflow';
    return new Promise((resolve) => {
      const timer = Number.isFinite(deadline)
        ? setTimeout(() => {
            a.abandon();
            resolve('timeout');
          }, Math.max(0, deadline - performance.now()))
        : undefined;
      const gone = () => {
        clearTimeout(timer);
        a.abandon();
        resolve(undefined);
      };
      f.onGone = gone;
      void a.ready.then((release) => {
        clearTimeout(timer);
        if (f.onGone === gone) f.onGone = undefined;
        resolve(release);
      });
    });
  }

  /** A try's result, or `timeout` when `until` (performance.now()) passes first. */
  private outcome(f: Flight, call: UpstreamCall, until: number): Promise<{ kind: 'response'; response: UpstreamResponse } | { kind: 'timeout' } | { kind: 'connect-failure' | 'reset' | 'refused-stream'; message: string }> {
    return new Promise((resolve) => {
      const left = until - performance.now();
      const timer = Number.isFinite(until) ? setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, left)) : undefined;
      const gone = () => {
        clearTimeout(timer);
        resolve({ kind: 'reset', message: 'client gone' });
      };
      f.onGone = gone;
      void call.result.then((r) => {
        clearTimeout(timer);
        if (f.onGone === gone) f.onGone = undefined;
        resolve(r.ok ? { kind: 'response', response: r.response } : { kind: r.kind, message: r.message });
      });
    });
  }

  /** The response, streamed with backpressure; a timeout or upstream failure once it has started resets the downstream request. */
  private stream(f: Flight, call: UpstreamCall, up: UpstreamResponse, deadline: number, tryTimeout: number, modifyResponse: (h: HeaderMap) => void, release: () => void): void {
    const { res } = f;
    const headers: HeaderMap = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !k.startsWith(':') && !HOP_BY_HOP.has(k) && k !== 'te') headers[k] = v;
    modifyResponse(headers);
    res.writeHead(up.status, headers as http.OutgoingHttpHeaders);
    const until = Math.min(deadline, tryTimeout > 0 ? performance.now() + tryTimeout : Infinity);
    let ended = false;
    const timer = Number.isFinite(until)
      ? setTimeout(() => {
          if (ended) return;
          call.abort();
          this.o.reset(res);
          this.finish(f, up.status, 'UT');
        }, Math.max(0, until - performance.now()))
      : undefined;
    const over = () => {
      ended = true;
      clearTimeout(timer);
      release();
      f.onGone = undefined;
    };
    f.onGone = () => {
      over();
      call.abort();
    };
    up.body.on('data', (d: Buffer) => {
      f.responseBytes += d.length;
      if (!(res as NodeJS.WritableStream).write(d)) {
        up.body.pause();
        res.once('drain', () => up.body.resume());
      }
    });
    up.body.on('end', () => {
      if (ended) return;
      over();
      const trailers = up.trailers();
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(trailers)) if (v !== undefined && !k.startsWith(':')) out[k] = v;
      if (Object.keys(out).length > 0) res.addTrailers(out);
      res.end();
      this.finish(f, up.status, '-');
    });
    up.body.on('close', () => {
      if (ended) return;
      // Closed without its end: the upstream reset mid-response.
      over();
      this.o.reset(res);
      this.finish(f, up.status, 'UR');
    });
  }

  /** A mirror: the same request to another Service, fire and forget; it never touches the response. */
  private mirror(f: Flight, m: RequestMirror, head: UpstreamHead): void {
    if (!m.backend || !(Math.random() * (m.denominator || 100) < m.numerator)) return;
    const svc = this.o.state.service(m.backend.namespace, m.backend.name);
    if (!svc) return;
    const endpoint = this.o.resilience.pick(svc, m.backend.port, head.headers, new Set());
    if ('error' in endpoint) return;
    const call = this.o.upstream[f.protocol].call(endpoint, { ...head, headers: { ...head.headers } });
    if (!f.body.shadow(call.body)) return call.abort();
    const timer = setTimeout(() => call.abort(), MIRROR_TIMEOUT_MS);
    void call.result.then((r) => {
      if (!r.ok) return clearTimeout(timer);
      r.response.body.on('close', () => clearTimeout(timer));
      r.response.body.resume();
    });
  }

  /** An answer from the waypoint itself (denied, limited, redirected, no route, upstream failure). gRPC clients get it as a gRPC status. */
  private local(f: Flight, status: number, body: string, flags: string | string[], endpoint?: Target, extraHeaders: http.OutgoingHttpHeaders = {}): void {
    if (endpoint) f.endpoint = endpoint;
    const flag = [...f.flags, ...(Array.isArray(flags) ? flags : [flags])].filter((x) => x && x !== '-').join(',') || '-';
    const { res } = f;
    if (f.gone || res.headersSent) {
      if (res.headersSent && !res.writableEnded) this.o.reset(res);
      return this.finish(f, res.headersSent ? res.statusCode : status, flag);
    }
    f.req.resume();
    if (isGrpc(f.line.headers) && status !== 200) {
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(grpcStatusOf(status)), 'grpc-message': encodeURIComponent(body.trim()), ...extraHeaders });
      res.end();
    } else {
      const bytes = Buffer.byteLength(body);
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': bytes, ...extraHeaders });
      res.end(body);
      f.responseBytes = bytes;
    }
    this.finish(f, status, flag);
  }

  /** The one count and access-log line of a request. */
  private finish(f: Flight, code: number, flags: string): void {
    if (f.reported) return;
    f.reported = true;
    const all = flags === '-' ? f.flags : [...f.flags, ...flags.split(',')];
    const flag = [...new Set(all.filter((x) => x && x !== '-'))].join(',') || '-';
    this.o.gate.report(f.c, f.line, {
      code,
      flags: flag,
      endpoint: f.endpoint,
      durationMs: Math.round(performance.now() - f.started),
      requestBytes: f.body.bytes,
      responseBytes: f.responseBytes,
      extra: { ...f.extra, ...(f.route ? { route: f.route } : {}), ...(f.tries > 1 ? { attempts: f.tries } : {}) },
      trace: f.trace,
      route: f.route,
      retries: Math.max(0, f.tries - 1),
    });
  }
}

function grpcStatusHeader(h: http.IncomingHttpHeaders): number | undefined {
  const v = h['grpc-status'];
  return v === undefined ? undefined : Number(v);
}
