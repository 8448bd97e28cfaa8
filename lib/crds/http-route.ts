import type { KubeObject } from '../k8s/types.js';
import { childPath } from './field-path.js';
import { field, type FieldError, type Fields, type Rec } from './fields.js';
import {
  checkBackendRefs,
  checkFilters,
  checkHeaderFilter,
  checkHeaderMatches,
  checkMirrorFilter,
  hostnameProblem,
  regexProblem,
  type BackendObjectReference,
  type HeaderMatch,
  type HTTPHeaderFilter,
  type HTTPRequestMirrorFilter,
  type ParentReference,
  validateRouteSpec,
} from './route-common.js';

/**
 * Gateway API `HTTPRoute` (gateway.networking.k8s.io/v1), the fields Ambit's
 * waypoint implements: matches, weighted backends, mirroring, header and URL
 * filters, redirects and timeouts. Experimental fields (retry,
 * sessionPersistence, CORS) are rejected with a pointer to the Ambit way.
 */

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export type HTTPMethod = (typeof HTTP_METHODS)[number];

export interface HTTPPathMatch {
  /** Default PathPrefix. */
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  /** Default "/". */
  value?: string;
}

export interface HTTPRouteMatch {
  /** Default `{ type: PathPrefix, value: "/" }`. */
  path?: HTTPPathMatch;
  headers?: HeaderMatch[];
  queryParams?: HeaderMatch[];
  method?: HTTPMethod;
}

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRequestRedirectFilter {
  scheme?: 'http' | 'https';
  hostname?: string;
  path?: HTTPPathModifier;
  port?: number;
  /** Default 302. */
  statusCode?: 301 | 302 | 303 | 307 | 308;
}

export interface HTTPURLRewriteFilter {
  hostname?: string;
  path?: HTTPPathModifier;
}

export interface HTTPRouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'RequestRedirect' | 'URLRewrite';
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: HTTPRequestMirrorFilter;
  requestRedirect?: HTTPRequestRedirectFilter;
  urlRewrite?: HTTPURLRewriteFilter;
}

export interface HTTPBackendRef extends BackendObjectReference {
  /** Relative share of traffic, default 1; 0 sends none. */
  weight?: number;
  /** Header modifiers only. */
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteTimeouts {
  /** Whole request, retries included; "0s" disables. */
  request?: string;
  /** One try to the backend; must not exceed `request`. */
  backendRequest?: string;
}

export interface HTTPRouteRule {
  name?: string;
  /** Default: one match of every request (PathPrefix "/"). */
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: HTTPRouteTimeouts;
}

export interface HTTPRouteSpec {
  /** The Services whose traffic this route governs (GAMMA); required. */
  parentRefs: ParentReference[];
  hostnames?: string[];
  rules?: HTTPRouteRule[];
}

export interface HTTPRoute extends KubeObject {
  kind: 'HTTPRoute';
  spec: HTTPRouteSpec;
}

function checkPathMatch(f: Fields, pm: Rec, path: string): string | undefined {
  f.onlyKnown(pm, path, ['type', 'value']);
  const type = f.oneOf(field(pm, 'type'), childPath(path, 'type'), ['Exact', 'PathPrefix', 'RegularExpression'] as const) ?? 'PathPrefix';
  const vp = childPath(path, 'value');
  const value = f.string(field(pm, 'value'), vp);
  if (value === undefined) return type;
  if (type === 'RegularExpression') {
    const problem = regexProblem(value);
    if (problem) f.add(vp, problem);
    return type;
  }
  // The Gateway API CEL rules for Exact and PathPrefix values.
  if (!value.startsWith('/')) f.add(vp, `must start with "/" (got ${JSON.stringify(value)})`);
  else if (value.includes('//')) f.add(vp, 'must not contain "//"');
  else if (/\/\.{1,2}(\/|$)/.test(value)) f.add(vp, 'must not contain "/./" or "/../" segments');
  else if (/%2f|#/i.test(value)) f.add(vp, 'must not contain "%2f" or "#"');
  return type;
}

function checkPathModifier(f: Fields, pm: Rec, path: string): string | undefined {
  f.onlyKnown(pm, path, ['type', 'replaceFullPath', 'replacePrefixMatch']);
  const type = f.oneOf(field(pm, 'type'), childPath(path, 'type'), ['ReplaceFullPath', 'ReplacePrefixMatch'] as const, { required: true });
  if (type === undefined) return undefined;
  const own = type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
  const other = type === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
  if (field(pm, other) !== undefined) f.add(childPath(path, other), `must not be set when type is ${type}`);
  f.string(field(pm, own), childPath(path, own), {
    required: true,
    check: (s) => (s.startsWith('/') ? undefined : `must start with "/" (got ${JSON.stringify(s)})`),
  });
  return type;
}

/** Rule-level facts the URL filters leave behind for the cross checks. */
interface FilterFacts {
  prefixReplace: boolean;
}

function httpFilterCheckers(facts: FilterFacts): Record<string, (f: Fields, c: Rec, p: string) => void> {
  return {
    RequestHeaderModifier: checkHeaderFilter,
    ResponseHeaderModifier: checkHeaderFilter,
    RequestMirror: checkMirrorFilter,
    RequestRedirect: (f, c, p) => {
      f.onlyKnown(c, p, ['scheme', 'hostname', 'path', 'port', 'statusCode']);
      f.oneOf(field(c, 'scheme'), childPath(p, 'scheme'), ['http', 'https'] as const);
      f.string(field(c, 'hostname'), childPath(p, 'hostname'), { check: hostnameProblem });
      f.port(field(c, 'port'), childPath(p, 'port'));
      const code = field(c, 'statusCode');
      if (code !== undefined && ![301, 302, 303, 307, 308].includes(code as number)) {
        f.add(childPath(p, 'statusCode'), `must be one of 301, 302, 303, 307, 308 (got ${JSON.stringify(code)})`);
      }
      const pm = f.record(field(c, 'path'), childPath(p, 'path'));
      if (pm && checkPathModifier(f, pm, childPath(p, 'path')) === 'ReplacePrefixMatch') facts.prefixReplace = true;
    },
    URLRewrite: (f, c, p) => {
      f.onlyKnown(c, p, ['hostname', 'path']);
      f.string(field(c, 'hostname'), childPath(p, 'hostname'), { check: hostnameProblem });
      const pm = f.record(field(c, 'path'), childPath(p, 'path'));
      if (pm && checkPathModifier(f, pm, childPath(p, 'path')) === 'ReplacePrefixMatch') facts.prefixReplace = true;
    },
  };
}

function checkMatch(f: Fields, m: Rec, path: string): string | undefined {
  f.onlyKnown(m, path, ['path', 'headers', 'queryParams', 'method']);
  const pm = f.record(field(m, 'path'), childPath(path, 'path'));
  const pathType = pm ? checkPathMatch(f, pm, childPath(path, 'path')) : 'PathPrefix';
  checkHeaderMatches(f, field(m, 'headers'), childPath(path, 'headers'));
  // Query parameter matches have the header-match shape; names are case-sensitive but the same grammar.
  checkHeaderMatches(f, field(m, 'queryParams'), childPath(path, 'queryParams'));
  f.oneOf(field(m, 'method'), childPath(path, 'method'), HTTP_METHODS);
  return pathType;
}

function checkRule(f: Fields, rule: Rec, path: string): void {
  f.onlyKnown(rule, path, ['name', 'matches', 'filters', 'backendRefs', 'timeouts'], {
    retry: 'not supported here: set retries in a TrafficPolicy for the Service',
    sessionPersistence: 'not supported: use a TrafficPolicy with loadBalancer type ConsistentHash',
  });
  const pathTypes: (string | undefined)[] = [];
  f.records(field(rule, 'matches'), childPath(path, 'matches'), (m, p) => pathTypes.push(checkMatch(f, m, p)));

  const facts: FilterFacts = { prefixReplace: false };
  const fp = childPath(path, 'filters');
  const types = checkFilters(f, field(rule, 'filters'), fp, httpFilterCheckers(facts), 'on an HTTPRoute');
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) f.add(fp, 'RequestRedirect and URLRewrite cannot be used together');
  // Omitted matches default to one PathPrefix "/" match, which satisfies the rule.
  if (field(rule, 'matches') === undefined) pathTypes.push('PathPrefix');
  if (facts.prefixReplace && !(pathTypes.length === 1 && pathTypes[0] === 'PathPrefix')) {
    f.add(fp, 'ReplacePrefixMatch needs exactly one match, and its path type must be PathPrefix');
  }

  const backendFilters = { RequestHeaderModifier: checkHeaderFilter, ResponseHeaderModifier: checkHeaderFilter };
  checkBackendRefs(f, field(rule, 'backendRefs'), childPath(path, 'backendRefs'), (filters, p) =>
    checkFilters(f, filters, p, backendFilters, 'on a backendRef (only header modifiers are)'),
  );

  const t = f.record(field(rule, 'timeouts'), childPath(path, 'timeouts'));
  if (t) {
    const tp = childPath(path, 'timeouts');
    f.onlyKnown(t, tp, ['request', 'backendRequest']);
    const request = f.duration(field(t, 'request'), childPath(tp, 'request'));
    const backend = f.duration(field(t, 'backendRequest'), childPath(tp, 'backendRequest'));
    if (request !== undefined && backend !== undefined && request !== 0 && backend > request) {
      f.add(childPath(tp, 'backendRequest'), `must not be longer than the request timeout (${String(field(t, 'request'))})`);
    }
  }
}

export function validateHTTPRoute(obj: unknown): FieldError[] {
  return validateRouteSpec(obj, checkRule);
}
