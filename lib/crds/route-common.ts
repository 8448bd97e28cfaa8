import { dnsLabelProblem, dnsSubdomainProblem } from '../k8s/names.js';
import { childPath, itemPath } from './field-path.js';
import { objectSpec } from './common.js';
import { re2Problem } from './regex.js';
import { field, guarded, type FieldError, type Fields, type Rec } from './fields.js';

/**
 * The parts HTTPRoute and GRPCRoute share (Gateway API v1), checked the way
 * the Gateway API CRDs and their CEL rules check them, narrowed to what a mesh
 * does: routes attach to Services (GAMMA) and send to Services.
 */

export interface ParentReference {
  /** Must be `""` (core): Ambit routes attach to Services. Gateway API's default is a Gateway, so it must be spelled out. */
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  /** Restricts the route to one port of the Service. */
  port?: number;
}

export interface BackendObjectReference {
  group?: string;
  /** Default `Service`, the only kind supported. */
  kind?: string;
  name: string;
  namespace?: string;
  /** Required: the Service port to send to. */
  port?: number;
}

export interface HTTPHeader {
  name: string;
  value: string;
}

export interface HTTPHeaderFilter {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}

export interface HTTPRequestMirrorFilter {
  backendRef: BackendObjectReference;
  /** Share of requests mirrored, 0..100; exclusive with `fraction`. Default all. */
  percent?: number;
  fraction?: { numerator: number; denominator?: number };
}

export interface HeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function headerNameProblem(s: string): string | undefined {
  if (s.length > 256 || !HEADER_NAME.test(s)) return `must be an HTTP header name (got ${JSON.stringify(s)})`;
  return undefined;
}

export function hostnameProblem(s: string): string | undefined {
  if (s.length > 253 || !HOSTNAME.test(s)) return `must be a lower-case DNS name, optionally starting with "*." (got ${JSON.stringify(s)})`;
  return undefined;
}

/** A route's regular expression must compile with RE2, the engine the waypoint matches with (regex.ts). */
export function regexProblem(s: string): string | undefined {
  return re2Problem(s);
}

export function checkParentRefs(f: Fields, v: unknown, path: string): void {
  const seen = new Set<string>();
  f.records(
    v,
    path,
    (ref, p) => {
      f.onlyKnown(ref, p, ['group', 'kind', 'namespace', 'name', 'sectionName', 'port']);
      const group = field(ref, 'group');
      const kind = field(ref, 'kind');
      if (kind !== 'Service') {
        f.add(childPath(p, 'kind'), `must be Service: Ambit routes attach to Services (GAMMA), so set kind: Service and group: "" (got ${kind === undefined ? 'nothing, which means Gateway' : JSON.stringify(kind)})`);
      } else if (group === undefined) {
        f.add(childPath(p, 'group'), 'must be "" for a Service parent (when omitted it means gateway.networking.k8s.io)');
      } else if (group !== '' && group !== 'core') {
        f.add(childPath(p, 'group'), `must be "" for a Service parent (got ${JSON.stringify(group)})`);
      }
      const name = f.string(field(ref, 'name'), childPath(p, 'name'), { required: true, check: dnsLabelProblem });
      const ns = f.string(field(ref, 'namespace'), childPath(p, 'namespace'), { check: dnsLabelProblem });
      f.string(field(ref, 'sectionName'), childPath(p, 'sectionName'), { check: dnsSubdomainProblem });
      const port = f.port(field(ref, 'port'), childPath(p, 'port'));
      const key = `${ns ?? ''}/${name ?? ''}:${port ?? ''}`;
      if (name !== undefined && seen.has(key)) f.add(p, 'duplicates another parentRef');
      seen.add(key);
    },
    { required: true, nonEmpty: true },
  );
}

export function checkHostnames(f: Fields, v: unknown, path: string): void {
  f.stringList(v, path, { check: hostnameProblem });
}

/**
 * A reference to a backend (for backendRefs and mirrors). Any group and kind
 * is valid here, as in the Gateway API CRD: a kind other than Service is not
 * an invalid route but an unresolved reference (ResolvedRefs=False,
 * InvalidKind), and requests its share would get are answered with 500.
 */
export function checkBackendObjectRef(f: Fields, ref: Rec, path: string, extraKeys: readonly string[] = []): void {
  f.onlyKnown(ref, path, ['group', 'kind', 'name', 'namespace', 'port', ...extraKeys]);
  const group = f.string(field(ref, 'group'), childPath(path, 'group'), { check: (s) => (s === '' ? undefined : dnsSubdomainProblem(s)) });
  const kind = f.string(field(ref, 'kind'), childPath(path, 'kind'), { nonEmpty: true });
  f.string(field(ref, 'name'), childPath(path, 'name'), { required: true, check: dnsLabelProblem });
  f.string(field(ref, 'namespace'), childPath(path, 'namespace'), { check: dnsLabelProblem });
  // Gateway API CEL: "Must have port for Service reference".
  const service = (group ?? '') === '' && (kind ?? 'Service') === 'Service';
  f.port(field(ref, 'port'), childPath(path, 'port'), { required: service });
}

function checkHeaderList(f: Fields, v: unknown, path: string): void {
  const names = new Set<string>();
  f.records(v, path, (h, p) => {
    f.onlyKnown(h, p, ['name', 'value']);
    const name = f.string(field(h, 'name'), childPath(p, 'name'), { required: true, check: headerNameProblem });
    f.string(field(h, 'value'), childPath(p, 'value'), { required: true });
    if (name !== undefined) {
      if (names.has(name.toLowerCase())) f.add(childPath(p, 'name'), `duplicates header ${JSON.stringify(name)} (header names are case-insensitive)`);
      names.add(name.toLowerCase());
    }
  });
}

export function checkHeaderFilter(f: Fields, filter: Rec, path: string): void {
  f.onlyKnown(filter, path, ['set', 'add', 'remove']);
  checkHeaderList(f, field(filter, 'set'), childPath(path, 'set'));
  checkHeaderList(f, field(filter, 'add'), childPath(path, 'add'));
  f.stringList(field(filter, 'remove'), childPath(path, 'remove'), { check: headerNameProblem });
}

export function checkMirrorFilter(f: Fields, mirror: Rec, path: string): void {
  f.onlyKnown(mirror, path, ['backendRef', 'percent', 'fraction']);
  const ref = f.record(field(mirror, 'backendRef'), childPath(path, 'backendRef'), { required: true });
  if (ref) checkBackendObjectRef(f, ref, childPath(path, 'backendRef'));
  f.exclusive(mirror, path, ['percent', 'fraction']);
  f.int(field(mirror, 'percent'), childPath(path, 'percent'), { min: 0, max: 100 });
  const frac = f.record(field(mirror, 'fraction'), childPath(path, 'fraction'));
  if (frac) {
    const fp = childPath(path, 'fraction');
    f.onlyKnown(frac, fp, ['numerator', 'denominator']);
    const num = f.int(field(frac, 'numerator'), childPath(fp, 'numerator'), { required: true, min: 0 });
    const den = f.int(field(frac, 'denominator'), childPath(fp, 'denominator'), { min: 1 }) ?? 100;
    if (num !== undefined && num > den) f.add(fp, `numerator (${num}) must not exceed denominator (${den})`);
  }
}

/** Header matches of HTTPRoute and GRPCRoute: Exact (default) or RegularExpression, unique names. */
export function checkHeaderMatches(f: Fields, v: unknown, path: string): void {
  const names = new Set<string>();
  f.records(v, path, (m, p) => {
    f.onlyKnown(m, p, ['type', 'name', 'value']);
    const type = f.oneOf(field(m, 'type'), childPath(p, 'type'), ['Exact', 'RegularExpression'] as const);
    const name = f.string(field(m, 'name'), childPath(p, 'name'), { required: true, check: headerNameProblem });
    const value = f.string(field(m, 'value'), childPath(p, 'value'), { required: true });
    if (type === 'RegularExpression' && value !== undefined) {
      const problem = regexProblem(value);
      if (problem) f.add(childPath(p, 'value'), problem);
    }
    if (name !== undefined) {
      if (names.has(name.toLowerCase())) f.add(childPath(p, 'name'), `duplicates header ${JSON.stringify(name)} in the same match`);
      names.add(name.toLowerCase());
    }
  });
}

/**
 * Filter lists: each filter's `type` names exactly the one config field it
 * carries (the Gateway API CEL rule), and types that may appear once do.
 * Returns the types seen, for rule-level cross checks.
 */
export function checkFilters(
  f: Fields,
  v: unknown,
  path: string,
  allowed: Readonly<Record<string, (f: Fields, config: Rec, path: string) => void>>,
  where: string,
): string[] {
  // `URLRewrite` -> `urlRewrite`, `RequestMirror` -> `requestMirror`.
  const configField = (type: string): string => (type === 'URLRewrite' ? 'urlRewrite' : type.charAt(0).toLowerCase() + type.slice(1));
  const allConfigFields = ['requestHeaderModifier', 'responseHeaderModifier', 'requestMirror', 'requestRedirect', 'urlRewrite', 'extensionRef'];
  const types: string[] = [];
  f.records(v, path, (filter, p) => {
    f.onlyKnown(filter, p, ['type', ...allConfigFields]);
    const typeValue = field(filter, 'type');
    if (typeValue === 'ExtensionRef') {
      f.add(childPath(p, 'type'), 'ExtensionRef is not supported by Ambit');
      return;
    }
    if (typeof typeValue === 'string' && ['RequestRedirect', 'URLRewrite', 'CORS', 'ExternalAuth'].includes(typeValue) && !(typeValue in allowed)) {
      f.add(childPath(p, 'type'), `${typeValue} is not supported ${where}`);
      return;
    }
    const type = f.oneOf(typeValue, childPath(p, 'type'), Object.keys(allowed), { required: true });
    if (type === undefined) return;
    types.push(type);
    const own = configField(type);
    for (const other of allConfigFields) {
      if (other !== own && field(filter, other) !== undefined) f.add(childPath(p, other), `must not be set when type is ${type}`);
    }
    const config = f.record(field(filter, own), childPath(p, own), { required: true });
    if (config) allowed[type]!(f, config, childPath(p, own));
  });
  // Gateway API: these may appear at most once per list.
  for (const once of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
    if (types.filter((t) => t === once).length > 1) f.add(path, `${once} may appear only once`);
  }
  return types;
}

/** `weight` 0..1,000,000 and the backend reference itself; `filters` is checked by the caller. */
export function checkBackendRefs(f: Fields, v: unknown, path: string, checkRefFilters: (filters: unknown, path: string) => void): void {
  f.records(v, path, (ref, p) => {
    checkBackendObjectRef(f, ref, p, ['weight', 'filters']);
    f.int(field(ref, 'weight'), childPath(p, 'weight'), { min: 0, max: 1_000_000 });
    if (field(ref, 'filters') !== undefined) checkRefFilters(field(ref, 'filters'), childPath(p, 'filters'));
  });
}

/** Rule names are optional but unique within a route. */
export function checkRuleNames(f: Fields, rules: unknown, path: string): void {
  if (!Array.isArray(rules)) return;
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return;
    const p = childPath(itemPath(path, i), 'name');
    const name = f.string(field(rule as Rec, 'name'), p, { check: dnsSubdomainProblem });
    if (name === undefined) return;
    if (seen.has(name)) f.add(p, `duplicates another rule name ${JSON.stringify(name)}`);
    seen.add(name);
  });
}

/**
 * The spec of an HTTPRoute or GRPCRoute: parentRefs, hostnames and rules,
 * with each kind checking its own rule shape.
 */
export function validateRouteSpec(obj: unknown, checkRule: (f: Fields, rule: Rec, path: string) => void): FieldError[] {
  return guarded('', (f) => {
    const { spec } = objectSpec(f, obj, { specRequired: true });
    if (!spec) return;
    f.onlyKnown(spec, 'spec', ['parentRefs', 'hostnames', 'rules']);
    checkParentRefs(f, field(spec, 'parentRefs'), 'spec.parentRefs');
    checkHostnames(f, field(spec, 'hostnames'), 'spec.hostnames');
    f.records(field(spec, 'rules'), 'spec.rules', (rule, p) => checkRule(f, rule, p));
    checkRuleNames(f, field(spec, 'rules'), 'spec.rules');
  });
}
