import type { IncomingHttpHeaders } from 'node:http';
import type { Route, RouteMatch, RouteRule, Service } from '../../lib/xds/index.js';
import { pathMatcher, pathPrefix, Patterns, valueMatcher, type Matcher } from './match.js';

/** What route matching reads of a request. */
export interface RouteRequest {
  method: string;
  /** The path without its query. */
  path: string;
  /** The raw query (after `?`), or ''. */
  query: string;
  headers: IncomingHttpHeaders;
  /** The client's namespace (from its certificate): consumer routes apply to their own namespace's clients only. */
  sourceNamespace: string;
}

/** The rule a request matched. */
export interface RouteChoice {
  route: Route;
  rule: RouteRule;
  /** `<namespace>/<route>/<rule name or index>`, for metrics, logs and spans. */
  name: string;
  /** The PathPrefix the request matched (for ReplacePrefixMatch), or undefined. */
  prefix: string | undefined;
}

/** Routes exist for the Service port, and none matched: Gateway API answers 404. */
export const NO_MATCH = 'no-match' as const;

interface Entry {
  choice: RouteChoice;
  path: Matcher;
  method: string;
  headers: { name: string; match: Matcher }[];
  query: { name: string; match: Matcher }[];
  /** Precedence, most specific first (Gateway API): path kind, path length, method, header count, query count. */
  rank: number[];
  /** Ties: the older route, then `<namespace>/<name>`, then rule and match order. */
  created: number;
  key: string;
  order: number;
}

const PATH_KIND = { EXACT: 3, PATH_PREFIX: 2, REGULAR_EXPRESSION: 1 } as const;

function compileMatch(route: Route, rule: RouteRule, ruleIndex: number, m: RouteMatch | undefined, order: number, patterns: Patterns): Entry {
  const path = m?.path ?? { type: 'PATH_PREFIX' as const, value: '/', name: '' };
  const prefix = path.type === 'PATH_PREFIX' ? pathPrefix(path.value || '/') : undefined;
  const headers = (m?.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), match: valueMatcher(h, patterns) }));
  const query = (m?.queryParams ?? []).map((q) => ({ name: q.name, match: valueMatcher(q, patterns) }));
  return {
    choice: { route, rule, name: `${route.namespace}/${route.name}/${rule.name || ruleIndex}`, prefix },
    path: pathMatcher(path, patterns),
    method: m?.method ?? '',
    headers,
    query,
    rank: [PATH_KIND[path.type], path.value.length, m?.method ? 1 : 0, headers.length, query.length],
    created: Number(route.createdMs ?? 0),
    key: `${route.namespace}/${route.name}`,
    order,
  };
}

function precedence(a: Entry, b: Entry): number {
  for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return b.rank[i]! - a.rank[i]!;
  if (a.created !== b.created) return a.created - b.created;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.order - b.order;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The first value of query parameter `name` in a raw query string. */
function queryValue(query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    if (safeDecode(k) === name) return eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function matches(e: Entry, r: RouteRequest): boolean {
  if (e.method && e.method !== r.method) return false;
  if (!e.path(r.path)) return false;
  for (const h of e.headers) {
    const v = headerValue(r.headers, h.name);
    if (v === undefined || !h.match(v)) return false;
  }
  for (const q of e.query) {
    const v = queryValue(r.query, q.name);
    if (v === undefined || !q.match(v)) return false;
  }
  return true;
}

/** The routes of one Service port: the Service's own, and each consumer namespace's. */
interface PortRoutes {
  producer: Entry[];
  consumers: Map<string, Entry[]>;
}

/**
 * The routes a waypoint applies, by Service port, compiled and ordered once
 * per config generation. A request to a Service port with routes gets the
 * most specific matching rule (Gateway API precedence), a consumer route of
 * its own namespace taking precedence over the Service's own routes (GAMMA),
 * or NO_MATCH; a port without routes gets `undefined` (straight to the
 * Service, as without a waypoint).
 */
export class RouteTable {
  private ports = new Map<string, PortRoutes>();
  private generation = -1;
  private readonly patterns = new Patterns();

  constructor(private readonly source: { readonly generation: number; routes(): readonly Route[] }) {}

  private compile(): void {
    this.ports = new Map();
    let order = 0;
    for (const route of this.source.routes()) {
      for (const parent of route.parents) {
        const entries: Entry[] = [];
        route.rules.forEach((rule, i) => {
          const ms = rule.matches.length ? rule.matches : [undefined];
          for (const m of ms) entries.push(compileMatch(route, rule, i, m, order++, this.patterns));
        });
        // Port 0 is every port: kept under '*', merged into each port's list when read.
        const key = `${parent.namespace}/${parent.name}:${parent.port || '*'}`;
        let p = this.ports.get(key);
        if (!p) this.ports.set(key, (p = { producer: [], consumers: new Map() }));
        if (parent.consumer) p.consumers.set(route.namespace, [...(p.consumers.get(route.namespace) ?? []), ...entries]);
        else p.producer.push(...entries);
      }
    }
    // Every port key gets the any-port routes of its Service, then everything is put in precedence order.
    for (const [key, p] of this.ports) {
      if (key.endsWith(':*')) continue;
      const any = this.ports.get(key.replace(/:\d+$/, ':*'));
      if (!any) continue;
      p.producer.push(...any.producer);
      for (const [ns, es] of any.consumers) p.consumers.set(ns, [...(p.consumers.get(ns) ?? []), ...es]);
    }
    for (const p of this.ports.values()) {
      p.producer.sort(precedence);
      for (const es of p.consumers.values()) es.sort(precedence);
    }
    this.patterns.sweep();
  }

  select(service: Service, port: number, r: RouteRequest): RouteChoice | typeof NO_MATCH | undefined {
    if (this.generation !== this.source.generation) {
      this.compile();
      this.generation = this.source.generation;
    }
    const base = `${service.namespace}/${service.name}`;
    const p = this.ports.get(`${base}:${port}`) ?? this.ports.get(`${base}:*`);
    if (!p) return undefined;
    const entries = p.consumers.get(r.sourceNamespace) ?? p.producer;
    if (entries.length === 0) return undefined;
    for (const e of entries) if (matches(e, r)) return e.choice;
    return NO_MATCH;
  }
}
