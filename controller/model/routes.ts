import { parseDuration } from '../../lib/crds/duration.js';
import type { GRPCMethodMatch, GRPCRoute, GRPCRouteRule, HeaderMatch, HTTPHeaderFilter, HTTPPathModifier, HTTPRequestMirrorFilter, HTTPRoute, HTTPRouteRule } from '../../lib/crds/index.js';
import type {
  BackendRef,
  HeaderModifier,
  PathModifier,
  Route,
  RouteFilter,
  RouteKind,
  RouteMatch,
  RouteParent,
  Service,
  StringMatch,
  WaypointRef,
} from '../../lib/xds/types.js';
import type { RouteKindName } from './kinds.js';

/**
 * HTTPRoute and GRPCRoute in the model (GAMMA: routes attach to Services and
 * are applied by the waypoints that serve them). In two steps, as
 * AuthorizationPolicy's Service targets are: `compileRoute` turns a validated
 * object into the pushed form on its own (so the book can keep the last
 * good version of each route), and `resolveRoute` decides, against the
 * Services of the moment, which parentRefs are accepted and which backend
 * references resolve. The status writer reads the same resolution, so what a
 * route's status says is what was pushed.
 */

/** A backend reference as written, with the route's namespace filled in. */
export interface BackendTarget {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port: number;
}

/** A parentRef as written (validated: a Service), with the route's namespace filled in. */
export interface ParentTarget {
  namespace: string;
  name: string;
  /** 0: every port. */
  port: number;
  /** A Service parent's sectionName names one of its ports. */
  sectionName: string;
}

interface CompiledFilter {
  filter: RouteFilter;
  /** Set for a mirror: its backend, resolved (or the mirror dropped) per Services of the moment. */
  mirror?: BackendTarget;
}

interface CompiledBackend {
  target: BackendTarget;
  weight: number;
  filters: RouteFilter[];
}

interface CompiledRule {
  name: string;
  matches: RouteMatch[];
  filters: CompiledFilter[];
  backends: CompiledBackend[];
  requestTimeoutMs: number;
  backendRequestTimeoutMs: number;
}

/** A route compiled from its object alone. */
export interface CompiledRoute {
  kind: RouteKindName;
  namespace: string;
  name: string;
  /** creationTimestamp in ms, as the int64 the wire carries it in ("0" when unknown). */
  createdMs: string;
  hostnames: string[];
  parents: ParentTarget[];
  rules: CompiledRule[];
}

const PROTO_KIND: Readonly<Record<RouteKindName, RouteKind>> = { HTTPRoute: 'HTTP', GRPCRoute: 'GRPC' };

const ms = (d: string | undefined): number => (d === undefined ? 0 : (parseDuration(d) ?? 0));

function createdMs(ts: string | undefined): string {
  const t = ts === undefined ? NaN : Date.parse(ts);
  return Number.isNaN(t) ? '0' : String(t);
}

function target(ref: { group?: string; kind?: string; namespace?: string; name: string; port?: number }, routeNamespace: string): BackendTarget {
  return { group: ref.group ?? '', kind: ref.kind ?? 'Service', namespace: ref.namespace ?? routeNamespace, name: ref.name, port: ref.port ?? 0 };
}

function stringMatch(m: HeaderMatch): StringMatch {
  return { type: m.type === 'RegularExpression' ? 'REGULAR_EXPRESSION' : 'EXACT', value: m.value, name: m.name };
}

function headerModifier(h: HTTPHeaderFilter): HeaderModifier {
  return { set: (h.set ?? []).map(({ name, value }) => ({ name, value })), add: (h.add ?? []).map(({ name, value }) => ({ name, value })), remove: [...(h.remove ?? [])] };
}

function pathModifier(p: HTTPPathModifier | undefined): PathModifier | null {
  if (!p) return null;
  return p.type === 'ReplaceFullPath' ? { type: 'REPLACE_FULL_PATH', value: p.replaceFullPath ?? '' } : { type: 'REPLACE_PREFIX_MATCH', value: p.replacePrefixMatch ?? '' };
}

/** The mirrored share: `percent` of 100, a fraction (denominator 100 by default), or every request. */
function mirrorShare(m: HTTPRequestMirrorFilter): { numerator: number; denominator: number } {
  if (m.percent !== undefined) return { numerator: m.percent, denominator: 100 };
  if (m.fraction) return { numerator: m.fraction.numerator, denominator: m.fraction.denominator ?? 100 };
  return { numerator: 100, denominator: 100 };
}

type AnyFilter = NonNullable<HTTPRouteRule['filters']>[number];

function compileFilter(f: AnyFilter, routeNamespace: string): CompiledFilter {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { filter: { filter: 'requestHeaderModifier', requestHeaderModifier: headerModifier(f.requestHeaderModifier ?? {}) } };
    case 'ResponseHeaderModifier':
      return { filter: { filter: 'responseHeaderModifier', responseHeaderModifier: headerModifier(f.responseHeaderModifier ?? {}) } };
    case 'RequestMirror': {
      const m = f.requestMirror!;
      // The backend is filled in when it resolves (resolveRoute); an unresolved mirror is dropped.
      return { filter: { filter: 'requestMirror', requestMirror: { backend: null, ...mirrorShare(m) } }, mirror: target(m.backendRef, routeNamespace) };
    }
    case 'RequestRedirect': {
      const r = f.requestRedirect ?? {};
      return {
        filter: {
          filter: 'requestRedirect',
          requestRedirect: { scheme: r.scheme ?? '', hostname: r.hostname ?? '', path: pathModifier(r.path), port: r.port ?? 0, statusCode: r.statusCode ?? 302 },
        },
      };
    }
    case 'URLRewrite': {
      const u = f.urlRewrite ?? {};
      return { filter: { filter: 'urlRewrite', urlRewrite: { hostname: u.hostname ?? '', path: pathModifier(u.path) } } };
    }
  }
}

function compileBackends(refs: HTTPRouteRule['backendRefs'], routeNamespace: string): CompiledBackend[] {
  return (refs ?? []).map((b) => ({
    target: target(b, routeNamespace),
    weight: b.weight ?? 1,
    filters: (b.filters ?? []).map((f) => compileFilter(f, routeNamespace).filter),
  }));
}

const PATH_TYPE = { Exact: 'EXACT', PathPrefix: 'PATH_PREFIX', RegularExpression: 'REGULAR_EXPRESSION' } as const;

function compileHttpRule(rule: HTTPRouteRule, routeNamespace: string): CompiledRule {
  return {
    name: rule.name ?? '',
    matches: (rule.matches ?? []).map((m) => ({
      path: { type: PATH_TYPE[m.path?.type ?? 'PathPrefix'], value: m.path?.value ?? '/', name: '' },
      headers: (m.headers ?? []).map(stringMatch),
      queryParams: (m.queryParams ?? []).map(stringMatch),
      method: m.method ?? '',
    })),
    filters: (rule.filters ?? []).map((f) => compileFilter(f, routeNamespace)),
    backends: compileBackends(rule.backendRefs, routeNamespace),
    requestTimeoutMs: ms(rule.timeouts?.request),
    backendRequestTimeoutMs: ms(rule.timeouts?.backendRequest),
  };
}

/** RE2 syntax characters, escaped so a name matches literally inside a pattern. */
const escapeRe2 = (s: string): string => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/**
 * A gRPC method match as the path match it is: gRPC sends `/<service>/<method>`.
 * Exact with both: that path. Exact service alone: PATH_PREFIX "/<service>",
 * which matches whole segments, so "/<service>/<any method>" and not
 * "/<service>Other/...". Exact method alone: any one service segment, then
 * the method. RegularExpression: each part a group of its own (so an
 * alternation stays inside its part), an omitted part any one segment, as
 * Gateway API says an omitted service or method matches any.
 */
export function grpcMethodPath(m: GRPCMethodMatch): StringMatch {
  const segment = '[^/]+';
  if (m.type === 'RegularExpression') return { type: 'REGULAR_EXPRESSION', value: `/(${m.service ?? segment})/(${m.method ?? segment})`, name: '' };
  if (m.service !== undefined && m.method !== undefined) return { type: 'EXACT', value: `/${m.service}/${m.method}`, name: '' };
  if (m.service !== undefined) return { type: 'PATH_PREFIX', value: `/${m.service}`, name: '' };
  return { type: 'REGULAR_EXPRESSION', value: `/${segment}/${escapeRe2(m.method ?? '')}`, name: '' };
}

function compileGrpcRule(rule: GRPCRouteRule, routeNamespace: string): CompiledRule {
  return {
    name: rule.name ?? '',
    matches: (rule.matches ?? []).map((m) => ({ path: m.method ? grpcMethodPath(m.method) : null, headers: (m.headers ?? []).map(stringMatch), queryParams: [], method: '' })),
    filters: (rule.filters ?? []).map((f) => compileFilter(f, routeNamespace)),
    backends: compileBackends(rule.backendRefs, routeNamespace),
    requestTimeoutMs: 0,
    backendRequestTimeoutMs: 0,
  };
}

/** Compiles a validated HTTPRoute or GRPCRoute. */
export function compileRoute(kind: RouteKindName, obj: HTTPRoute | GRPCRoute): CompiledRoute {
  const namespace = obj.metadata.namespace ?? 'default';
  const spec = obj.spec;
  const rules =
    kind === 'HTTPRoute' ? ((spec.rules ?? []) as HTTPRouteRule[]).map((r) => compileHttpRule(r, namespace)) : ((spec.rules ?? []) as GRPCRouteRule[]).map((r) => compileGrpcRule(r, namespace));
  return {
    kind,
    namespace,
    name: obj.metadata.name,
    createdMs: createdMs(obj.metadata.creationTimestamp),
    hostnames: [...(spec.hostnames ?? [])],
    parents: spec.parentRefs.map((p) => ({ namespace: p.namespace ?? namespace, name: p.name, port: p.port ?? 0, sectionName: p.sectionName ?? '' })),
    rules,
  };
}

// ---- resolution against the Services of the moment ----

/** What resolution needs of the model. */
export interface RouteContext {
  /** The Service as pushed (ports, waypoint), if it exists. */
  service(namespace: string, name: string): Service | undefined;
  /** Whether the Waypoint exists (a Service labelled for a missing one is reached directly). */
  hasWaypoint(ref: WaypointRef): boolean;
}

export type ParentOutcome =
  | { accepted: true; parent: RouteParent; waypoint: WaypointRef }
  | { accepted: false; reason: 'NoMatchingParent' | 'NoWaypoint'; message: string };

export interface UnresolvedRef {
  reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound';
  /** `backendRef <ns>/<name>:<port>: why`. */
  message: string;
}

export interface RouteResolution {
  /** Per parentRef, in the order the spec lists them. */
  parents: ParentOutcome[];
  /** Every backend and mirror reference that did not resolve, in rule order. */
  unresolved: UnresolvedRef[];
  /** The pushed resource: undefined when no parent accepted the route. */
  route: Route | undefined;
}

const svcName = (ns: string, name: string) => `${ns}/${name}`;

function resolveParent(p: ParentTarget, routeNamespace: string, ctx: RouteContext): ParentOutcome {
  const svc = ctx.service(p.namespace, p.name);
  const named = svcName(p.namespace, p.name);
  if (!svc) return { accepted: false, reason: 'NoMatchingParent', message: `Service ${named} not found; the route attaches to it once it exists.` };
  let port = p.port;
  if (p.sectionName) {
    const byName = svc.ports.find((sp) => sp.name === p.sectionName);
    if (!byName) return { accepted: false, reason: 'NoMatchingParent', message: `Service ${named} has no port named ${p.sectionName} (sectionName).` };
    if (port !== 0 && port !== byName.port) return { accepted: false, reason: 'NoMatchingParent', message: `Service ${named} port ${p.sectionName} is ${byName.port}, not ${port}.` };
    port = byName.port;
  }
  if (port !== 0 && !svc.ports.some((sp) => sp.port === port)) {
    return { accepted: false, reason: 'NoMatchingParent', message: `Service ${named} has no port ${port} (it has ${svc.ports.map((sp) => sp.port).join(', ') || 'none'}).` };
  }
  const apply = 'Routes are applied by waypoints, so this route is not in force for it';
  if (!svc.waypoint) {
    return { accepted: false, reason: 'NoWaypoint', message: `Service ${named} has no waypoint. ${apply}: label the Service or its namespace ambit.dev/use-waypoint=<waypoint>.` };
  }
  if (!ctx.hasWaypoint(svc.waypoint)) {
    return {
      accepted: false,
      reason: 'NoWaypoint',
      message: `Service ${named} is labelled for waypoint ${svcName(svc.waypoint.namespace, svc.waypoint.name)}, which does not exist, so its traffic goes straight to its endpoints. ${apply}.`,
    };
  }
  return { accepted: true, parent: { namespace: p.namespace, name: p.name, port, consumer: p.namespace !== routeNamespace }, waypoint: svc.waypoint };
}

/**
 * A backend resolves to a Service port. Permitted namespaces: the route's
 * own, and its parent Services' (a consumer route sends to the Service it
 * attaches to, as Gateway API's MeshConsumerRoute does, with no
 * ReferenceGrant). Ambit reads no ReferenceGrant, so any other namespace is
 * refused rather than letting a route make a waypoint call, as itself, into
 * a namespace its author has no say in.
 */
function resolveBackend(t: BackendTarget, permitted: ReadonlySet<string>, ctx: RouteContext): BackendRef | UnresolvedRef {
  const at = `backendRef ${t.group && t.group !== 'core' ? `${t.kind}.${t.group}` : t.kind} ${svcName(t.namespace, t.name)}${t.port ? `:${t.port}` : ''}`;
  if ((t.group !== '' && t.group !== 'core') || t.kind !== 'Service') return { reason: 'InvalidKind', message: `${at}: only Services (group "") are backends` };
  if (!permitted.has(t.namespace)) {
    return { reason: 'RefNotPermitted', message: `${at}: a backend must be in the route's namespace or a parent Service's (${[...permitted].sort().join(', ')}); Ambit does not read ReferenceGrants` };
  }
  const svc = ctx.service(t.namespace, t.name);
  if (!svc) return { reason: 'BackendNotFound', message: `${at}: Service not found` };
  if (!svc.ports.some((p) => p.port === t.port)) return { reason: 'BackendNotFound', message: `${at}: the Service has no port ${t.port}` };
  return { namespace: t.namespace, name: t.name, port: t.port };
}

const isUnresolved = (r: BackendRef | UnresolvedRef): r is UnresolvedRef => 'reason' in r;

/**
 * Which parents accept the route and which references resolve, and the
 * route as pushed: accepted parents only; an unresolved backend kept with
 * its weight and no `ref` (the waypoint answers its share with 500, as
 * Gateway API requires); an unresolved mirror dropped.
 */
export function resolveRoute(c: CompiledRoute, ctx: RouteContext): RouteResolution {
  const parents = c.parents.map((p) => resolveParent(p, c.namespace, ctx));
  const permitted = new Set([c.namespace, ...c.parents.map((p) => p.namespace)]);
  const unresolved: UnresolvedRef[] = [];
  const resolve = (t: BackendTarget): BackendRef | null => {
    const r = resolveBackend(t, permitted, ctx);
    if (!isUnresolved(r)) return r;
    unresolved.push(r);
    return null;
  };
  const rules = c.rules.map((rule) => ({
    name: rule.name,
    matches: rule.matches,
    filters: rule.filters.flatMap(({ filter, mirror }) => {
      if (!mirror) return [filter];
      const backend = resolve(mirror);
      return backend ? [{ ...filter, requestMirror: { ...filter.requestMirror!, backend } }] : [];
    }),
    backends: rule.backends.map((b) => ({ ref: resolve(b.target), weight: b.weight, filters: b.filters })),
    requestTimeoutMs: rule.requestTimeoutMs,
    backendRequestTimeoutMs: rule.backendRequestTimeoutMs,
  }));
  const accepted = parents.flatMap((p) => (p.accepted ? [p.parent] : []));
  const route: Route | undefined =
    accepted.length > 0 ? { namespace: c.namespace, name: c.name, kind: PROTO_KIND[c.kind], parents: accepted, hostnames: c.hostnames, rules, createdMs: c.createdMs } : undefined;
  return { parents, unresolved, route };
}
