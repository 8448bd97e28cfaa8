import type { KubeObject } from '../k8s/types.js';
import { childPath } from './field-path.js';
import { field, type FieldError, type Fields, type Rec } from './fields.js';
import {
  checkBackendRefs,
  checkFilters,
  checkHeaderFilter,
  checkHeaderMatches,
  checkMirrorFilter,
  regexProblem,
  type BackendObjectReference,
  type HeaderMatch,
  type HTTPHeaderFilter,
  type HTTPRequestMirrorFilter,
  type ParentReference,
  validateRouteSpec,
} from './route-common.js';

/** Gateway API `GRPCRoute` (gateway.networking.k8s.io/v1): gRPC method and header matching for Service parents. */

export interface GRPCMethodMatch {
  /** Default Exact. */
  type?: 'Exact' | 'RegularExpression';
  /** Fully qualified service, e.g. `helloworld.Greeter`. */
  service?: string;
  method?: string;
}

export interface GRPCRouteMatch {
  method?: GRPCMethodMatch;
  headers?: HeaderMatch[];
}

export interface GRPCRouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror';
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: HTTPRequestMirrorFilter;
}

export interface GRPCBackendRef extends BackendObjectReference {
  weight?: number;
  filters?: GRPCRouteFilter[];
}

export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: GRPCRouteFilter[];
  backendRefs?: GRPCBackendRef[];
}

export interface GRPCRouteSpec {
  parentRefs: ParentReference[];
  hostnames?: string[];
  rules?: GRPCRouteRule[];
}

export interface GRPCRoute extends KubeObject {
  kind: 'GRPCRoute';
  spec: GRPCRouteSpec;
}

// The Gateway API CEL patterns for Exact service and method names.
const SERVICE = /^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

function checkMethodMatch(f: Fields, m: Rec, path: string): void {
  f.onlyKnown(m, path, ['type', 'service', 'method']);
  const type = f.oneOf(field(m, 'type'), childPath(path, 'type'), ['Exact', 'RegularExpression'] as const) ?? 'Exact';
  const service = f.string(field(m, 'service'), childPath(path, 'service'), { nonEmpty: true });
  const method = f.string(field(m, 'method'), childPath(path, 'method'), { nonEmpty: true });
  if (field(m, 'service') === undefined && field(m, 'method') === undefined) f.add(path, 'must set service, method or both');
  const check = (value: string | undefined, key: string, exact: RegExp, example: string): void => {
    if (value === undefined) return;
    const problem = type === 'Exact' ? (exact.test(value) ? undefined : `must be a gRPC ${key} name like "${example}" (got ${JSON.stringify(value)})`) : regexProblem(value);
    if (problem) f.add(childPath(path, key), problem);
  };
  check(service, 'service', SERVICE, 'helloworld.Greeter');
  check(method, 'method', METHOD, 'SayHello');
}

function checkRule(f: Fields, rule: Rec, path: string): void {
  f.onlyKnown(rule, path, ['name', 'matches', 'filters', 'backendRefs'], {
    sessionPersistence: 'not supported: use a TrafficPolicy with loadBalancer type ConsistentHash',
    timeouts: 'GRPCRoute has no timeouts; set timeout in a TrafficPolicy for the Service',
  });
  f.records(field(rule, 'matches'), childPath(path, 'matches'), (m, p) => {
    f.onlyKnown(m, p, ['method', 'headers']);
    const mm = f.record(field(m, 'method'), childPath(p, 'method'));
    if (mm) checkMethodMatch(f, mm, childPath(p, 'method'));
    checkHeaderMatches(f, field(m, 'headers'), childPath(p, 'headers'));
  });
  const filters = { RequestHeaderModifier: checkHeaderFilter, ResponseHeaderModifier: checkHeaderFilter, RequestMirror: checkMirrorFilter };
  checkFilters(f, field(rule, 'filters'), childPath(path, 'filters'), filters, 'on a GRPCRoute');
  const backendFilters = { RequestHeaderModifier: checkHeaderFilter, ResponseHeaderModifier: checkHeaderFilter };
  checkBackendRefs(f, field(rule, 'backendRefs'), childPath(path, 'backendRefs'), (fl, p) =>
    checkFilters(f, fl, p, backendFilters, 'on a backendRef (only header modifiers are)'),
  );
}

export function validateGRPCRoute(obj: unknown): FieldError[] {
  return validateRouteSpec(obj, checkRule);
}
