import type { FieldError } from '../../lib/crds/fields.js';
import {
  isL7Rule,
  normalizePrincipal,
  validateAuthorizationPolicy,
  validateGRPCRoute,
  validateHTTPRoute,
  validatePeerAuthentication,
  validateTrafficPolicy,
  type AuthorizationPolicy as AuthorizationPolicyCr,
  type GRPCRoute,
  type HTTPRoute,
  type PeerAuthentication as PeerAuthenticationCr,
  type TrafficPolicy as TrafficPolicyCr,
} from '../../lib/crds/index.js';
import type { AuthorizationPolicy, L4Condition, L4Rule, L4Source, PeerAuthentication, PolicyScope, WorkloadSelector } from '../../lib/xds/types.js';
import type { BookKind, RouteKindName } from './kinds.js';
import { compileRoute, type CompiledRoute } from './routes.js';
import { compileTrafficPolicy, type CompiledTrafficPolicy } from './traffic-policies.js';

/**
 * Validation and compilation of the policy kinds. A policy that fails
 * validation is rejected and its last accepted version stays in force; the
 * book keeps both so status and logs can say which one is enforced.
 */

/** A Kubernetes object as the informers deliver it (already parsed, untrusted). */
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number; uid?: string; resourceVersion?: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
}

function selectorOf(sel: { matchLabels?: Record<string, string> } | undefined): WorkloadSelector | null {
  return sel?.matchLabels && Object.keys(sel.matchLabels).length > 0 ? { matchLabels: { ...sel.matchLabels } } : null;
}

function portsOf(list: (string | number)[] | undefined): number[] {
  return (list ?? []).map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
}

/**
 * An AuthorizationPolicy compiled from its object alone. Which of its target
 * Services the node agents enforce depends on the waypoints of the moment, so
 * the model adds that when it builds the pushed resource (enforcement.ts).
 */
export type CompiledAuthorizationPolicy = Omit<AuthorizationPolicy, 'nodeAgentServices'>;

/** Compiles a validated AuthorizationPolicy to the L4 form node agents enforce. */
export function compileAuthorizationPolicy(cr: AuthorizationPolicyCr, rootNamespace: string): CompiledAuthorizationPolicy {
  const spec = cr.spec ?? {};
  const namespace = cr.metadata.namespace ?? 'default';
  const targetRefs = (spec.targetRefs ?? []).map((r) => ({ group: r.group ?? (r.kind === 'Waypoint' ? 'ambit.dev' : ''), kind: r.kind, name: r.name }));
  const selector = selectorOf(spec.selector);
  const scope: PolicyScope = targetRefs.length > 0 ? 'TARGET_REFS' : selector ? 'WORKLOAD_SELECTOR' : namespace === rootNamespace ? 'MESH' : 'NAMESPACE';
  const rules: L4Rule[] = (spec.rules ?? []).map((rule) => {
    const from: L4Source[] = (rule.from ?? []).map(({ source: s }) => ({
      principals: (s.principals ?? []).map(normalizePrincipal),
      notPrincipals: (s.notPrincipals ?? []).map(normalizePrincipal),
      namespaces: [...(s.namespaces ?? [])],
      notNamespaces: [...(s.notNamespaces ?? [])],
      ipBlocks: [...(s.ipBlocks ?? [])],
      notIpBlocks: [...(s.notIpBlocks ?? [])],
    }));
    const to = (rule.to ?? []).map(({ operation: o }) => ({
      ports: portsOf(o.ports),
      notPorts: portsOf(o.notPorts),
      methods: [...(o.methods ?? [])],
      notMethods: [...(o.notMethods ?? [])],
      paths: [...(o.paths ?? [])],
      notPaths: [...(o.notPaths ?? [])],
      hosts: [...(o.hosts ?? [])],
      notHosts: [...(o.notHosts ?? [])],
    }));
    const conditions = (rule.when ?? []).map((c): L4Condition => {
      const norm = c.key === 'source.principal' ? normalizePrincipal : (v: string) => v;
      return { key: c.key, values: (c.values ?? []).map(norm), notValues: (c.notValues ?? []).map(norm) };
    });
    const when = conditions.filter((c) => !c.key.startsWith('request.'));
    const l7When = conditions.filter((c) => c.key.startsWith('request.'));
    return { from, to, when, l7When, hasL7: isL7Rule(rule) };
  });
  return {
    namespace,
    name: cr.metadata.name,
    scope,
    selector: scope === 'WORKLOAD_SELECTOR' ? selector : null,
    targetRefs,
    action: spec.action ?? 'ALLOW',
    rules,
    hasL7: rules.some((r) => r.hasL7),
  };
}

/** Compiles a validated PeerAuthentication. */
export function compilePeerAuthentication(cr: PeerAuthenticationCr, rootNamespace: string): PeerAuthentication {
  const spec = cr.spec ?? {};
  const namespace = cr.metadata.namespace ?? 'default';
  const selector = selectorOf(spec.selector);
  return {
    namespace,
    name: cr.metadata.name,
    scope: selector ? 'WORKLOAD_SELECTOR' : namespace === rootNamespace ? 'MESH' : 'NAMESPACE',
    selector,
    mode: spec.mtls?.mode ?? 'UNSET',
    portLevelMtls: Object.entries(spec.portLevelMtls ?? {})
      .map(([port, m]) => ({ port: Number(port), mode: m.mode }))
      .sort((a, b) => a.port - b.port),
  };
}

export interface PolicyEntry<C> {
  /** The latest object seen (its status is what the status writer compares against). */
  object: RawObject;
  /** Problems of the latest object; empty when it was accepted. */
  errors: FieldError[];
  /** The last accepted version, enforced while the latest is rejected. */
  good: { compiled: C; generation: number } | undefined;
}

export type PolicyOutcome = { accepted: true } | { accepted: false; errors: FieldError[]; keptGeneration: number | undefined; firstReport: boolean };

/** Validated objects of one kind (a policy kind or a route kind), keyed `<namespace>/<name>`, with the last good version of each. */
export class PolicyBook<C> {
  private readonly entries = new Map<string, PolicyEntry<C>>();

  constructor(
    readonly kind: BookKind,
    private readonly validate: (obj: unknown) => FieldError[],
    private readonly compile: (obj: RawObject) => C,
  ) {}

  upsert(key: string, obj: RawObject): PolicyOutcome {
    const prev = this.entries.get(key);
    const generation = Number(obj.metadata?.generation ?? 0);
    let errors = this.validate(obj);
    let compiled: C | undefined;
    if (errors.length === 0) {
      try {
        compiled = this.compile(obj);
      } catch (err) {
        // The validators should make this unreachable; reject rather than crash.
        errors = [{ path: '', message: `could not be compiled: ${err instanceof Error ? err.message : String(err)}` }];
      }
    }
    const good = compiled !== undefined ? { compiled, generation } : prev?.good;
    this.entries.set(key, { object: obj, errors, good });
    if (errors.length === 0) return { accepted: true };
    const sameAsBefore = prev !== undefined && Number(prev.object.metadata?.generation ?? 0) === generation && sameErrors(prev.errors, errors);
    return { accepted: false, errors, keptGeneration: good?.generation, firstReport: !sameAsBefore };
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The enforced (last good) version of every policy. */
  enforced(): Map<string, C> {
    const out = new Map<string, C>();
    for (const [k, e] of this.entries) if (e.good) out.set(k, e.good.compiled);
    return out;
  }

  /** The enforced (last good) version of one policy. */
  enforcedOf(key: string): C | undefined {
    return this.entries.get(key)?.good?.compiled;
  }

  /** The keys of every policy, enforced or not. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  entriesList(): [string, PolicyEntry<C>][] {
    return [...this.entries];
  }

  get size(): number {
    return this.entries.size;
  }

  get rejected(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.errors.length > 0) n++;
    return n;
  }
}

function sameErrors(a: FieldError[], b: FieldError[]): boolean {
  return a.length === b.length && a.every((e, i) => e.path === b[i]!.path && e.message === b[i]!.message);
}

export function authorizationPolicyBook(rootNamespace: string): PolicyBook<CompiledAuthorizationPolicy> {
  return new PolicyBook('AuthorizationPolicy', validateAuthorizationPolicy, (o) => compileAuthorizationPolicy(o as AuthorizationPolicyCr, rootNamespace));
}

export function peerAuthenticationBook(rootNamespace: string): PolicyBook<PeerAuthentication> {
  return new PolicyBook('PeerAuthentication', validatePeerAuthentication, (o) => compilePeerAuthentication(o as PeerAuthenticationCr, rootNamespace));
}

export function trafficPolicyBook(): PolicyBook<CompiledTrafficPolicy> {
  return new PolicyBook('TrafficPolicy', validateTrafficPolicy, (o) => compileTrafficPolicy(o as TrafficPolicyCr));
}

/** HTTPRoutes or GRPCRoutes: a route is validated and compiled from its object alone; which parents and backends resolve is decided when it is pushed (routes.ts). */
export function routeBook(kind: RouteKindName): PolicyBook<CompiledRoute> {
  const validate = kind === 'HTTPRoute' ? validateHTTPRoute : validateGRPCRoute;
  return new PolicyBook(kind, validate, (o) => compileRoute(kind, o as HTTPRoute | GRPCRoute));
}

/** One line for logs and status messages: `spec.action: must be one of ...; spec.rules[0]...`. */
export function formatFieldErrors(errors: readonly FieldError[], max = 5): string {
  const shown = errors.slice(0, max).map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  const more = errors.length > max ? `; and ${errors.length - max} more` : '';
  return shown.join('; ') + more;
}
