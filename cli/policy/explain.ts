import { pino } from 'pino';
import { Registry } from 'prom-client';
import { AmbitError } from '../../lib/errors.js';
import { denialReason, modeOnPort } from '../../lib/policy/index.js';
import type { Service, WaypointRef, Workload } from '../../lib/xds/index.js';
import { admitInbound, waypointIdentity } from '../../node-agent/proxy/inbound.js';
import { outboundWaypoint } from '../../node-agent/proxy/outbound.js';
import { Resolver, type Target } from '../../node-agent/proxy/resolve.js';
import type { MeshState } from '../../node-agent/state/mesh-state.js';
import { RequestMetrics } from '../../waypoint/metrics.js';
import { protocolOf } from '../../waypoint/protocol.js';
import { RequestGate, type HttpConnection, type RequestLine } from '../../waypoint/requests.js';
import { NO_MATCH, RouteTable } from '../../waypoint/routing/table.js';
import { describeRule, describeTrafficPolicy, describeMatch, ref } from '../proxies/describe.js';
import { connectionOf, policyVerdicts } from './evaluate.js';
import type { ConfigSource, Destination, Explanation, ExplainQuestion, HeldState, Step, Verdict } from './types.js';

/** The proxies' own code logs AUDIT matches; explain reports them instead. */
const quiet = pino({ level: 'silent' });

const fail = (message: string): never => {
  throw new AmbitError('AMBIT_ERR_CONFIG', message);
};

/** Where the call goes, resolved in the source agent's state as its outbound side resolves it. */
function resolveDestination(state: MeshState, d: Destination, port: number | undefined): { ip: string; port: number; service: Service | undefined; pod: Workload | undefined; asked: string } {
  const pick = (s: Service) => {
    if (!s.clusterIp) fail(`Service ${ref(s)} is headless (no ClusterIP): name one of its pods instead`);
    const p = port ?? (s.ports.length === 1 ? s.ports[0]!.port : fail(`Service ${ref(s)} has ports ${s.ports.map((x) => x.port).join(', ')}: say which (${ref(s)}:PORT)`));
    if (!s.ports.some((x) => x.port === p)) fail(`Service ${ref(s)} has no port ${p} (it has ${s.ports.map((x) => x.port).join(', ')})`);
    return { ip: s.clusterIp, port: p, service: s, pod: undefined, asked: `${ref(s)}:${p}` };
  };
  const podAt = (w: Workload) => {
    if (!w.ip) fail(`pod ${ref(w)} has no IP yet`);
    return { ip: w.ip, port: port ?? fail(`a pod has no default port: say which (${ref(w)}:PORT)`), service: undefined, pod: w, asked: `pod ${ref(w)}` };
  };
  const pod = (ns: string, name: string) => state.all('Workload').find((w) => w.namespace === ns && w.name === name);
  switch (d.kind) {
    case 'service':
      return pick(state.service(d.namespace, d.name) ?? fail(`no Service ${d.namespace}/${d.name} in the source's node agent config`));
    case 'pod':
      return podAt(pod(d.namespace, d.name) ?? fail(`no pod ${d.namespace}/${d.name} in the source's node agent config (a pod outside the mesh on another node is not sent to it: no policy applies to it)`));
    case 'either': {
      const s = state.service(d.namespace, d.name);
      if (s) return pick(s);
      const w = pod(d.namespace, d.name);
      return w ? podAt(w) : fail(`no Service or pod ${d.namespace}/${d.name} in the source's node agent config`);
    }
    case 'address': {
      const s = state.serviceAt(d.ip);
      if (s) return pick(s);
      const w = state.workloadAt(d.ip);
      if (w) return podAt(w);
      return { ip: d.ip, port: port ?? fail('an address needs a port (ADDRESS:PORT)'), service: undefined, pod: undefined, asked: d.ip };
    }
  }
}

const agentName = (h: HeldState, node: string) => `node-agent of ${node} (${h.proxy})`;

/** The destination node agent on one endpoint: `admitInbound` on the state that agent holds. */
async function destinationStep(
  src: ConfigSource,
  target: Target,
  peer: { identity: string | undefined; sourceIp: string | undefined; sourceWorkload: Workload | undefined },
  transport: 'mtls' | 'plaintext',
): Promise<Step> {
  const endpoint = `${target.workload ? ref(target.workload) : target.ip} ${target.ip}:${target.port}`;
  const w = target.workload;
  if (!w?.meshed) {
    return { at: 'destination', proxy: '(none)', endpoint, summary: 'the endpoint is not in the mesh: the connection is carried as plain TCP and no policy applies', allowed: true };
  }
  const held = await src.agent(w.node);
  const state = held.state;
  const a = admitInbound(state, w.node, peer, target.ip, target.port, transport);
  const mine = state.workloadAt(target.ip) ?? w;
  const mtls = state.mtlsFor(mine);
  const conn = connectionOf(peer.identity, peer.sourceIp, target.ip, target.port);
  const refs = state.policiesFor(mine, target.port);
  const decidedBy = a.policy;
  const portFrom = mtls.portsFrom.get(target.port) ?? mtls.modeFrom ?? null;
  return {
    at: 'destination',
    proxy: agentName(held, w.node),
    endpoint,
    summary: a.ok ? `admits the ${transport === 'mtls' ? 'mutual-TLS' : 'plaintext'} connection` : `refuses the connection (${a.status})`,
    mtls: { mode: modeOnPort(mtls, target.port), from: portFrom, transport },
    policies: policyVerdicts(state, refs, conn, undefined, decidedBy),
    allowed: a.ok,
    ...(a.ok ? {} : { reason: a.reason }),
    ...(held.complete ? {} : { reason: `${held.proxy} has no complete config: it admits nothing yet` }),
  };
}

/** The route a waypoint picks, for the step's `route` field. */
function describeChoice(choice: ReturnType<RouteTable['select']>): Step['route'] {
  if (choice === undefined) return { name: null, reason: 'no route for this Service port: straight to the Service' };
  if (choice === NO_MATCH) return { name: null, reason: 'routes exist for this Service port and none matches: 404' };
  const rule = choice.rule;
  return {
    name: `${choice.route.kind}Route ${ref(choice.route)}`,
    rule: choice.name,
    match: rule.matches.map(describeMatch).join(' | ') || 'any',
    backends: rule.backends.map((b) => `${b.ref ? `${b.ref.namespace}/${b.ref.name}${b.ref.port ? `:${b.ref.port}` : ''}` : '?'} weight ${b.weight}`),
  };
}

/**
 * Explains one call: the path it takes (source agent, the waypoint if the destination has
 * one, the destination agent of each endpoint it may reach) and what each proxy decides,
 * computed by the proxies' own functions on the config each of them holds:
 * outboundWaypoint (source agent), WaypointProxy's admission and RequestGate + RouteTable
 * (waypoint), admitInbound (destination agent), over MeshState rebuilt from their dumps.
 */
export async function explain(q: ExplainQuestion, srcNode: string, source: ConfigSource): Promise<Explanation> {
  const srcHeld = await source.agent(srcNode);
  const srcState = srcHeld.state;
  const w = srcState.all('Workload').find((x) => x.namespace === q.source.namespace && x.name === q.source.name);
  if (!w) fail(`the node agent of ${srcNode} holds no workload ${q.source.namespace}/${q.source.name}: is its config behind? ('ambit status')`);
  const srcW = w!;
  const dst = resolveDestination(srcState, q.destination, q.port);
  const servicePort = dst.service?.ports.find((p) => p.port === dst.port);
  const declared = protocolOf(servicePort);
  const http = declared === 'http1' || declared === 'http2' || (declared === 'unknown' && q.request !== undefined);
  const steps: Step[] = [];
  const base = {
    source: { pod: ref(srcW), node: srcNode, identity: srcW.identity, meshed: srcW.meshed, ip: srcW.ip },
    destination: { asked: dst.asked, service: dst.service ? ref(dst.service) : null, address: `${dst.ip}:${dst.port}`, port: dst.port, protocol: http ? ('http' as const) : ('tcp' as const) },
  };

  const via = outboundWaypoint(srcState, srcW, dst.ip);
  steps.push({
    at: 'source',
    proxy: agentName(srcHeld, srcNode),
    summary: !srcW.meshed
      ? 'the source is not in the mesh: its connection is not captured and leaves as plaintext'
      : via
        ? `captures the connection and tunnels it (HBONE, mutual TLS as ${srcW.identity}) to waypoint ${ref(via.waypoint)}`
        : `captures the connection and carries it with mutual TLS as ${srcW.identity}`,
    allowed: true,
  });

  let endpoints: { targets: Target[]; peer: Parameters<typeof destinationStep>[2]; transport: 'mtls' | 'plaintext' };
  if (via) {
    const wp = await source.waypoint(via.waypoint);
    const r = waypointSteps(q, wp, via.waypoint, srcW, dst, http);
    steps.push(r.step);
    if (!r.step.allowed || r.targets.length === 0) {
      // Refused there (DENY); answered there (a redirect: ALLOW); or nowhere to send it (FAIL).
      const verdict: Verdict = !r.step.allowed ? 'DENY' : r.step.reason ? 'FAIL' : 'ALLOW';
      return { ...base, waypoint: via.waypoint, steps, verdict, reason: verdict === 'ALLOW' ? `${r.step.proxy} answers it itself` : `${r.step.proxy}: ${r.step.reason}` };
    }
    // The waypoint tunnels on as itself and names no client address (waypoint/proxy.ts open).
    endpoints = { targets: r.targets, peer: { identity: waypointIdentity(srcW.identity, via.waypoint), sourceIp: undefined, sourceWorkload: undefined }, transport: 'mtls' };
  } else {
    const targets = dst.service ? [...new Resolver(srcState).endpoints(dst.service, dst.port)] : [{ ip: dst.ip, port: dst.port, workload: dst.pod, service: undefined }];
    if (targets.length === 0) return { ...base, waypoint: null, steps, verdict: 'FAIL', reason: `no ready endpoint of ${dst.asked}: the connection is reset` };
    endpoints = srcW.meshed
      ? { targets, peer: { identity: srcW.identity, sourceIp: srcW.ip, sourceWorkload: srcW }, transport: 'mtls' }
      : { targets, peer: { identity: undefined, sourceIp: srcW.ip, sourceWorkload: undefined }, transport: 'plaintext' };
  }
  for (const t of endpoints.targets) steps.push(await destinationStep(source, t, endpoints.peer, endpoints.transport));
  const dests = steps.filter((s) => s.at === 'destination');
  const denied = dests.filter((s) => !s.allowed);
  const verdict: Verdict = denied.length === 0 ? 'ALLOW' : denied.length === dests.length ? 'DENY' : 'MIXED';
  const reason =
    verdict === 'ALLOW'
      ? 'every proxy on the path admits it'
      : verdict === 'DENY'
        ? `${denied[0]!.proxy}: ${denied[0]!.reason}${via ? ' (the waypoint answers 503: its tunnel to the endpoint is refused)' : ' (the client sees its connection reset)'}`
        : `refused on ${denied.length} of ${dests.length} endpoints (${denied.map((d) => d.endpoint).join(', ')}): the call succeeds or fails by the endpoint the load balancer picks`;
  return { ...base, waypoint: via?.waypoint ?? null, steps, verdict, reason };
}

/**
 * At the waypoint, as WaypointProxy and the exchange do it: the tunnel is admitted for a
 * Service bound to it; its policies (waypointPolicies) are read per request for HTTP
 * (RequestGate), else once on L4 with their HTTP fields failing closed; then the route
 * (RouteTable) decides where the request goes, and the TrafficPolicy applies.
 */
function waypointSteps(q: ExplainQuestion, wp: HeldState, ref_: WaypointRef, srcW: Workload, dst: ReturnType<typeof resolveDestination>, http: boolean): { step: Step; targets: Target[] } {
  const state = wp.state;
  const proxy = `waypoint ${ref(ref_)} (${wp.proxy})`;
  const service = state.serviceAt(dst.ip);
  const resolver = new Resolver(state);
  const picked = resolver.resolve(dst.ip, dst.port);
  const endpoint: Target = 'error' in picked ? { ip: dst.ip, port: dst.port, workload: undefined, service } : picked;
  const principal = srcW.identity.replace(/^spiffe:\/\//, '');
  const connection: HttpConnection = { principal, source: srcW, sourceIp: srcW.ip, service, destination: { host: dst.ip, port: dst.port } };
  const refs = state.waypointPolicies(ref_, service);
  const gate = new RequestGate({ policies: () => refs, endpoint: () => picked, metrics: new RequestMetrics(new Registry()), log: quiet });
  const trafficPolicy = service ? describeTrafficPolicy(service) : undefined;
  const conn = connectionOf(principal, srcW.ip, endpoint.ip, endpoint.port);
  if (!wp.complete) return { step: { at: 'waypoint', proxy, summary: 'has no complete config', allowed: false, reason: `waypoint ${ref(ref_)} has no complete config from the controller yet`, answer: 'tunnel refused (403)' }, targets: [] };

  if (!http) {
    const decision = gate.decide(refs, connection, endpoint);
    const step: Step = {
      at: 'waypoint',
      proxy,
      summary: 'not HTTP: carried as bytes to one endpoint; its policies are read on L4',
      policies: policyVerdicts(state, refs, conn, undefined, decision.policy),
      ...(trafficPolicy ? { trafficPolicy } : {}),
      allowed: decision.allowed,
      ...(decision.allowed ? {} : { reason: denialReason(decision), answer: 'the connection is closed' }),
    };
    return { step, targets: service ? [...resolver.endpoints(service, dst.port)] : 'error' in picked ? [] : [picked] };
  }

  const req = q.request ?? { method: 'GET', path: '/', headers: {} };
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const authority = headers['host'] ?? (service ? `${service.hostname}${dst.port === 80 ? '' : `:${dst.port}`}` : `${dst.ip}:${dst.port}`);
  const line: RequestLine = { protocol: protocolOf(dst.service?.ports.find((p) => p.port === dst.port)) === 'http2' ? 'h2' : 'http/1.1', method: req.method, path: req.path, authority, headers };
  const admitted = gate.admit(line, connection);
  const request = { method: line.method, path: line.path, host: authority, headers };
  const decision = gate.decide(refs, connection, endpoint, line);
  const policies = policyVerdicts(state, refs, conn, request, decision.policy);
  const asked = `${req.method} ${req.path}`;
  if (!admitted.ok) {
    return { step: { at: 'waypoint', proxy, summary: `refuses ${asked}`, policies, ...(trafficPolicy ? { trafficPolicy } : {}), allowed: false, reason: denialReason(decision), answer: `HTTP ${admitted.status} ${admitted.body.trim()}` }, targets: [] };
  }
  const q_ = line.path.indexOf('?');
  const choice = service ? new RouteTable({ generation: state.generation, routes: () => state.all('Route') }).select(service, dst.port, { method: line.method, path: q_ < 0 ? line.path : line.path.slice(0, q_), query: q_ < 0 ? '' : line.path.slice(q_ + 1), headers, sourceNamespace: conn.sourceNamespace ?? '' }) : undefined;
  const route = describeChoice(choice);
  const step: Step = { at: 'waypoint', proxy, summary: `admits ${asked}`, policies, route, ...(trafficPolicy ? { trafficPolicy } : {}), allowed: true };
  if (choice === NO_MATCH) return { step: { ...step, summary: `admits ${asked}, but no route matches`, reason: 'no route matched: the waypoint answers 404', answer: 'HTTP 404 no route matched' }, targets: [] };
  if (choice && choice.rule.filters.some((f) => f.requestRedirect)) return { step: { ...step, summary: `admits ${asked} and answers it with a redirect (${describeRule(choice.rule)})` }, targets: [] };
  // Where requests go: the rule's weighted backends (each a Service), or the addressed Service.
  const backends: { service: Service; port: number }[] = choice
    ? choice.rule.backends.filter((b) => b.weight > 0 && b.ref).flatMap((b) => {
        const s = state.service(b.ref!.namespace, b.ref!.name);
        return s ? [{ service: s, port: b.ref!.port || dst.port }] : [];
      })
    : service
      ? [{ service, port: dst.port }]
      : [];
  // A pod addressed directly (a Waypoint `for: workload`) is its own endpoint.
  const targets = service ? backends.flatMap((b) => resolver.endpoints(b.service, b.port)) : 'error' in picked ? [] : [picked];
  if (targets.length === 0) return { step: { ...step, reason: 'no ready endpoint behind the route: the waypoint answers 503', answer: 'HTTP 503' }, targets: [] };
  return { step, targets };
}
