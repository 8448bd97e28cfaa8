import type { KubeObject } from '../k8s/types.js';
import { checkTargetRefs, checkWorkloadSelector, eachString, objectSpec, wildcardProblem, type PolicyTargetReference, type WorkloadSelector } from './common.js';
import { childPath } from './field-path.js';
import { field, guarded, type FieldError, type Fields, type Rec } from './fields.js';
import { ipOrCidrProblem } from './net.js';

/**
 * `AuthorizationPolicy` (ambit.dev/v1alpha1), with Istio's shapes and
 * semantics: a request matches a rule when it matches any `from`, any `to`
 * and every `when`; within a source or operation, every set field must match
 * (each field is an OR over its values, `not*` fields exclude).
 */

export const AUTHZ_ACTIONS = ['ALLOW', 'DENY', 'AUDIT'] as const;
export type AuthorizationAction = (typeof AUTHZ_ACTIONS)[number];

export interface Source {
  /** Peer identities, `<trust-domain>/ns/<ns>/sa/<sa>` (a `spiffe://` prefix is accepted); `*` wildcards as in Istio. */
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  /** Source addresses, IPs or CIDRs. */
  ipBlocks?: string[];
  notIpBlocks?: string[];
}

export interface Operation {
  /** Destination ports; Istio writes them as strings, numbers are accepted too. */
  ports?: (string | number)[];
  notPorts?: (string | number)[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
  hosts?: string[];
  notHosts?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source: Source }[];
  to?: { operation: Operation }[];
  when?: Condition[];
}

export interface AuthorizationPolicySpec {
  /** Services or Waypoints in the policy's namespace. Exclusive with `selector`. */
  targetRefs?: PolicyTargetReference[];
  selector?: WorkloadSelector;
  /** Default ALLOW. */
  action?: AuthorizationAction;
  /** ALLOW with no rules matches nothing (denies everything it selects), as in Istio. */
  rules?: AuthorizationRule[];
}

export interface AuthorizationPolicy extends KubeObject {
  kind: 'AuthorizationPolicy';
  spec?: AuthorizationPolicySpec;
}

const SOURCE_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks'] as const;
const OPERATION_FIELDS = ['ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'] as const;
/** Operation fields only a waypoint can see. */
export const L7_OPERATION_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'] as const;

const NO_JWT = 'not supported: Ambit has no request authentication (JWT)';
const SOURCE_NOTES = {
  requestPrincipals: NO_JWT,
  notRequestPrincipals: NO_JWT,
  remoteIpBlocks: 'not supported: Ambit has no ingress gateway to report the original client address; use ipBlocks',
  notRemoteIpBlocks: 'not supported: Ambit has no ingress gateway to report the original client address; use notIpBlocks',
};

/** Condition keys and how their values are checked; `request.*` keys are L7. */
const CONDITION_KEYS: Readonly<Record<string, (s: string) => string | undefined>> = {
  'source.ip': ipOrCidrProblem,
  'destination.ip': ipOrCidrProblem,
  'source.namespace': namespacePatternProblem,
  'source.principal': principalProblem,
  'destination.port': portStringProblem,
  'connection.sni': wildcardProblem,
};
const HEADER_KEY = /^request\.headers\[:?[A-Za-z0-9!#$%&'*+\-.^_`|~]+\]$/;

/** The shape of a peer identity, with Istio's prefix/suffix wildcards. */
export function principalProblem(s: string): string | undefined {
  const wild = wildcardProblem(s);
  if (wild) return wild;
  if (s.includes('*')) return undefined;
  const body = s.startsWith('spiffe://') ? s.slice('spiffe://'.length) : s;
  if (!/^[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(body)) {
    return `must be a principal like "cluster.local/ns/default/sa/web", optionally with a "*" prefix or suffix (got ${JSON.stringify(s)})`;
  }
  return undefined;
}

/** Strips the `spiffe://` prefix so principals compare equal however they were written. */
export function normalizePrincipal(s: string): string {
  return s.startsWith('spiffe://') ? s.slice('spiffe://'.length) : s;
}

function namespacePatternProblem(s: string): string | undefined {
  const wild = wildcardProblem(s);
  if (wild) return wild;
  if (!/^[a-z0-9*-]+$/.test(s) || s.length > 63) return `must be a namespace name, optionally with a "*" prefix or suffix (got ${JSON.stringify(s)})`;
  return undefined;
}

function portStringProblem(s: string): string | undefined {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  return n >= 1 && n <= 65535 ? undefined : `must be a port number 1..65535 (got ${JSON.stringify(s)})`;
}

function methodProblem(s: string): string | undefined {
  const wild = wildcardProblem(s);
  if (wild) return wild;
  if (!/^[A-Z*]+$/.test(s)) return `must be an HTTP method in upper case, like "GET" (got ${JSON.stringify(s)})`;
  return undefined;
}

function pathProblem(s: string): string | undefined {
  if (!s.startsWith('/') && !s.startsWith('*')) return `must start with "/" (or "*" for a suffix match) (got ${JSON.stringify(s)})`;
  // Istio path templates ({*}, {**}) have their own grammar; the wildcard rule applies to the rest.
  return s.includes('{') ? (/\s/.test(s) ? 'must not contain whitespace' : undefined) : wildcardProblem(s);
}

/** A rule is L7 when it needs the HTTP request to decide: methods, paths, hosts or `request.*` conditions. */
export function isL7Rule(rule: unknown): boolean {
  if (typeof rule !== 'object' || rule === null) return false;
  const r = rule as Rec;
  const tos = Array.isArray(field(r, 'to')) ? (field(r, 'to') as unknown[]) : [];
  const l7Op = tos.some((to) => {
    const op = typeof to === 'object' && to !== null ? field(to as Rec, 'operation') : undefined;
    return typeof op === 'object' && op !== null && L7_OPERATION_FIELDS.some((k) => field(op as Rec, k) !== undefined);
  });
  const whens = Array.isArray(field(r, 'when')) ? (field(r, 'when') as unknown[]) : [];
  const l7When = whens.some((w) => {
    const key = typeof w === 'object' && w !== null ? field(w as Rec, 'key') : undefined;
    return typeof key === 'string' && key.startsWith('request.');
  });
  return l7Op || l7When;
}

function checkPortList(f: Fields, v: unknown, path: string): void {
  const items = f.list(v, path, { nonEmpty: true });
  items?.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (typeof item === 'number') f.port(item, p);
    else if (typeof item === 'string') {
      const problem = portStringProblem(item);
      if (problem) f.add(p, problem);
    } else f.add(p, `must be a port number (got ${item === null ? 'null' : Array.isArray(item) ? 'a list' : typeof item})`);
  });
}

/** `rec[key]`, when set, is a non-empty list of strings that each pass `check`. */
function checkStrings(f: Fields, rec: Rec, path: string, key: string, check: (s: string) => string | undefined): void {
  const p = childPath(path, key);
  eachString(f, f.stringList(field(rec, key), p, { nonEmpty: true }), p, check);
}

function checkSource(f: Fields, src: Rec, path: string): void {
  f.onlyKnown(src, path, SOURCE_FIELDS, SOURCE_NOTES);
  if (!SOURCE_FIELDS.some((k) => field(src, k) !== undefined)) {
    f.add(path, `must set at least one of ${SOURCE_FIELDS.join(', ')}; remove "from" to match any source`);
  }
  const list = (k: string, check: (s: string) => string | undefined) => checkStrings(f, src, path, k, check);
  list('principals', principalProblem);
  list('notPrincipals', principalProblem);
  list('namespaces', namespacePatternProblem);
  list('notNamespaces', namespacePatternProblem);
  list('ipBlocks', ipOrCidrProblem);
  list('notIpBlocks', ipOrCidrProblem);
}

function checkOperation(f: Fields, op: Rec, path: string): void {
  f.onlyKnown(op, path, OPERATION_FIELDS);
  if (!OPERATION_FIELDS.some((k) => field(op, k) !== undefined)) {
    f.add(path, `must set at least one of ${OPERATION_FIELDS.join(', ')}; remove "to" to match any operation`);
  }
  checkPortList(f, field(op, 'ports'), childPath(path, 'ports'));
  checkPortList(f, field(op, 'notPorts'), childPath(path, 'notPorts'));
  const list = (k: string, check: (s: string) => string | undefined) => checkStrings(f, op, path, k, check);
  list('methods', methodProblem);
  list('notMethods', methodProblem);
  list('paths', pathProblem);
  list('notPaths', pathProblem);
  list('hosts', wildcardProblem);
  list('notHosts', wildcardProblem);
}

function checkCondition(f: Fields, cond: Rec, path: string): void {
  f.onlyKnown(cond, path, ['key', 'values', 'notValues']);
  const key = f.string(field(cond, 'key'), childPath(path, 'key'), { required: true });
  let check: ((s: string) => string | undefined) | undefined;
  if (key !== undefined) {
    if (Object.prototype.hasOwnProperty.call(CONDITION_KEYS, key)) check = CONDITION_KEYS[key];
    else if (HEADER_KEY.test(key)) check = undefined;
    else if (key.startsWith('request.auth.')) f.add(childPath(path, 'key'), `${JSON.stringify(key)} is ${NO_JWT}`);
    else {
      f.add(childPath(path, 'key'), `unsupported condition key ${JSON.stringify(key)}; supported: ${Object.keys(CONDITION_KEYS).join(', ')}, request.headers[<name>]`);
    }
  }
  if (field(cond, 'values') === undefined && field(cond, 'notValues') === undefined) {
    f.add(path, 'must set values or notValues');
  }
  for (const k of ['values', 'notValues']) {
    const p = childPath(path, k);
    const values = f.stringList(field(cond, k), p, { nonEmpty: true });
    if (check) eachString(f, values, p, check);
  }
}

function checkRule(f: Fields, rule: Rec, path: string): void {
  f.onlyKnown(rule, path, ['from', 'to', 'when']);
  f.records(field(rule, 'from'), childPath(path, 'from'), (from, p) => {
    f.onlyKnown(from, p, ['source']);
    const src = f.record(field(from, 'source'), childPath(p, 'source'), { required: true });
    if (src) checkSource(f, src, childPath(p, 'source'));
  });
  f.records(field(rule, 'to'), childPath(path, 'to'), (to, p) => {
    f.onlyKnown(to, p, ['operation']);
    const op = f.record(field(to, 'operation'), childPath(p, 'operation'), { required: true });
    if (op) checkOperation(f, op, childPath(p, 'operation'));
  });
  f.records(field(rule, 'when'), childPath(path, 'when'), (cond, p) => checkCondition(f, cond, p));
}

export function validateAuthorizationPolicy(obj: unknown): FieldError[] {
  return guarded('', (f) => {
    const { spec, namespace } = objectSpec(f, obj);
    if (!spec) return;
    f.onlyKnown(spec, 'spec', ['targetRefs', 'selector', 'action', 'rules'], {
      targetRef: 'use targetRefs (a list)',
      provider: 'not supported: Ambit has no CUSTOM (external) authorization',
    });
    f.exclusive(spec, 'spec', ['targetRefs', 'selector']);
    checkTargetRefs(f, field(spec, 'targetRefs'), 'spec.targetRefs', ['Service', 'Waypoint'], namespace);
    checkWorkloadSelector(f, field(spec, 'selector'), 'spec.selector');
    f.oneOf(field(spec, 'action'), 'spec.action', AUTHZ_ACTIONS);
    f.records(field(spec, 'rules'), 'spec.rules', (rule, p) => checkRule(f, rule, p));
  });
}
