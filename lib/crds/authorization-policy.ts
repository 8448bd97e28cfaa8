import { normalizePrincipal } from '../identity/spiffe.js';
import type { KubeObject } from '../k8s/types.js';
import { AMBIT_API_VERSION, SELECTOR_HINTS, checkTargetNamespaces, namespaceOf, wildcardProblem, type PolicyTargetReference, type WorkloadSelector } from './common.js';
import { childPath, itemPath } from './field-path.js';
import { field, type FieldError, type Fields, type Rec } from './fields.js';
import { ipOrCidrProblem } from './net.js';
import { validateCustomResource } from './schema.js';
import { unknownFieldNote, type Hints } from './schema-errors.js';

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

/** Operation fields only a waypoint can see. */
export const L7_OPERATION_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'] as const;

const NO_JWT = 'not supported: Ambit has no request authentication (JWT)';
const NO_REMOTE_IP = 'not supported: Ambit has no ingress gateway to report the original client address; use';

/** Istio fields and keys Ambit does not support, and why; the schema alone would only call them unknown. */
const HINTS: Hints = {
  ...SELECTOR_HINTS,
  targetRef: unknownFieldNote('use targetRefs (a list)'),
  provider: unknownFieldNote('not supported: Ambit has no CUSTOM (external) authorization'),
  requestPrincipals: unknownFieldNote(NO_JWT),
  notRequestPrincipals: unknownFieldNote(NO_JWT),
  remoteIpBlocks: unknownFieldNote(`${NO_REMOTE_IP} ipBlocks`),
  notRemoteIpBlocks: unknownFieldNote(`${NO_REMOTE_IP} notIpBlocks`),
  source: (i) => (i.keyword === 'minProperties' ? `${i.message}; remove "from" to match any source` : undefined),
  operation: (i) => (i.keyword === 'minProperties' ? `${i.message}; remove "to" to match any operation` : undefined),
  key: (i) => (i.keyword === 'pattern' && typeof i.value === 'string' && i.value.startsWith('request.auth.') ? `${JSON.stringify(i.value)} is ${NO_JWT}` : undefined),
};

/** How the values of each condition key must look (the schema takes any non-empty strings); `request.headers[...]` values are free. */
const CONDITION_VALUES: Readonly<Record<string, (s: string) => string | undefined>> = {
  'source.ip': ipOrCidrProblem,
  'destination.ip': ipOrCidrProblem,
  'source.namespace': namespacePatternProblem,
  'source.principal': principalProblem,
  'destination.port': portStringProblem,
  'connection.sni': wildcardProblem,
};

/** The shape of a peer identity, with Istio's prefix/suffix wildcards. */
export function principalProblem(s: string): string | undefined {
  const wild = wildcardProblem(s);
  if (wild) return wild;
  if (s.includes('*')) return undefined;
  if (!/^[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(normalizePrincipal(s))) {
    return `must be a principal like "cluster.local/ns/default/sa/web", optionally with a "*" prefix or suffix (got ${JSON.stringify(s)})`;
  }
  return undefined;
}

export { normalizePrincipal };

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

/** `values` all pass `check`; each failure at its item. */
function checkEach(f: Fields, values: readonly string[] | undefined, path: string, check: (s: string) => string | undefined): void {
  values?.forEach((v, i) => {
    const problem = check(v);
    if (problem) f.add(itemPath(path, i), problem);
  });
}

/**
 * What the schema cannot say: targets in the policy's own namespace, IPv6
 * addresses parsed exactly (the schema's pattern is loose on them), and
 * condition values in the grammar of their key.
 */
function semantic(policy: AuthorizationPolicy, f: Fields): void {
  const spec = policy.spec;
  if (!spec) return;
  checkTargetNamespaces(f, spec.targetRefs, namespaceOf(policy), 'spec.targetRefs');
  spec.rules?.forEach((rule, r) => {
    const rulePath = itemPath('spec.rules', r);
    rule.from?.forEach(({ source }, i) => {
      const p = childPath(itemPath(childPath(rulePath, 'from'), i), 'source');
      checkEach(f, source.ipBlocks, childPath(p, 'ipBlocks'), ipOrCidrProblem);
      checkEach(f, source.notIpBlocks, childPath(p, 'notIpBlocks'), ipOrCidrProblem);
    });
    rule.when?.forEach((cond, i) => {
      const check = Object.prototype.hasOwnProperty.call(CONDITION_VALUES, cond.key) ? CONDITION_VALUES[cond.key]! : undefined;
      if (!check) return;
      const p = itemPath(childPath(rulePath, 'when'), i);
      checkEach(f, cond.values, childPath(p, 'values'), check);
      checkEach(f, cond.notValues, childPath(p, 'notValues'), check);
    });
  });
}

/** Its CRD schema (charts/ambit/crds/authorizationpolicies.ambit.dev.yaml), then what only code can check. */
export function validateAuthorizationPolicy(obj: unknown): FieldError[] {
  return validateCustomResource<AuthorizationPolicy>(AMBIT_API_VERSION, 'AuthorizationPolicy', obj, { hints: HINTS, semantic });
}
