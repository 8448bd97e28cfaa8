import type { AuthorizationAction, AuthorizationRule, Condition, Operation, Source } from '../crds/authorization-policy.js';
import { inIpBlocks, inPorts, matchesAny, matchesPrincipal } from './matchers.js';

/**
 * Authorization with Istio's semantics: any matching DENY denies; otherwise,
 * if any ALLOW policy applies, one of them must match; AUDIT policies only
 * flag. The same evaluation serves the node agent (L4: it cannot see HTTP)
 * and the waypoint (L7).
 *
 * At L4 a rule that needs HTTP attributes cannot be checked. It fails closed:
 * in an ALLOW policy such a rule never matches (grants nothing), in a DENY
 * policy its HTTP conditions are taken as met (denies more), as ztunnel does.
 */
export interface ConnectionAttributes {
  /** `cluster.local/ns/NS/sa/SA` (or with spiffe://); absent for plaintext peers. */
  sourcePrincipal?: string | undefined;
  sourceNamespace?: string | undefined;
  sourceIp?: string | undefined;
  destinationIp?: string | undefined;
  destinationPort?: number | undefined;
}

export interface RequestAttributes {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface PolicyRef {
  namespace: string;
  name: string;
  action: AuthorizationAction;
  rules: readonly AuthorizationRule[];
}

export type Decision =
  | { allowed: true; reason: 'no-policy' | 'allowed'; policy?: string; audited: string[] }
  | { allowed: false; reason: 'denied' | 'not-allowed'; policy?: string; audited: string[] };

/** Why a refused connection or request was refused, as logs and answers say it. */
export function denialReason(d: Decision): string {
  return d.reason === 'denied' ? `denied by AuthorizationPolicy ${d.policy}` : 'no ALLOW AuthorizationPolicy matched';
}

/** The namespace in a principal (`<td>/ns/<namespace>/sa/<sa>`), for `source.namespace` rules. */
export function principalNamespace(principal: string | undefined): string | undefined {
  return principal ? /\/ns\/([^/]+)\//.exec(principal)?.[1] : undefined;
}

export function authorize(policies: readonly PolicyRef[], conn: ConnectionAttributes, request?: RequestAttributes): Decision {
  const ctx: Ctx = { conn, request };
  const name = (p: PolicyRef) => `${p.namespace}/${p.name}`;
  const audited = policies.filter((p) => p.action === 'AUDIT' && policyMatches(p, ctx, 'deny-like')).map(name);
  const deny = policies.find((p) => p.action === 'DENY' && policyMatches(p, ctx, 'deny-like'));
  if (deny) return { allowed: false, reason: 'denied', policy: name(deny), audited };
  const allows = policies.filter((p) => p.action === 'ALLOW');
  if (allows.length === 0) return { allowed: true, reason: 'no-policy', audited };
  const allow = allows.find((p) => policyMatches(p, ctx, 'allow-like'));
  if (allow) return { allowed: true, reason: 'allowed', policy: name(allow), audited };
  return { allowed: false, reason: 'not-allowed', audited };
}

interface Ctx {
  conn: ConnectionAttributes;
  request: RequestAttributes | undefined;
}

/** How an attribute the evaluator cannot see (HTTP, at L4) counts. */
type Unknown = 'allow-like' | 'deny-like';

function policyMatches(p: PolicyRef, ctx: Ctx, unknown: Unknown): boolean {
  return p.rules.some((r) => ruleMatches(r, ctx, unknown));
}

function ruleMatches(rule: AuthorizationRule, ctx: Ctx, unknown: Unknown): boolean {
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  const when = rule.when ?? [];
  return (
    (from.length === 0 || from.some((f) => sourceMatches(f.source ?? {}, ctx.conn))) &&
    (to.length === 0 || to.some((t) => operationMatches(t.operation ?? {}, ctx, unknown))) &&
    when.every((c) => conditionMatches(c, ctx, unknown))
  );
}

function sourceMatches(s: Source, c: ConnectionAttributes): boolean {
  return (
    (!s.principals || matchesPrincipal(s.principals, c.sourcePrincipal)) &&
    (!s.notPrincipals || !matchesPrincipal(s.notPrincipals, c.sourcePrincipal)) &&
    (!s.namespaces || matchesAny(s.namespaces, c.sourceNamespace)) &&
    (!s.notNamespaces || !matchesAny(s.notNamespaces, c.sourceNamespace)) &&
    (!s.ipBlocks || inIpBlocks(s.ipBlocks, c.sourceIp)) &&
    (!s.notIpBlocks || !inIpBlocks(s.notIpBlocks, c.sourceIp))
  );
}

/** An HTTP condition: checked when there is a request, else counted per `unknown`. */
function http(ctx: Ctx, unknown: Unknown, check: (r: RequestAttributes) => boolean): boolean {
  return ctx.request ? check(ctx.request) : unknown === 'deny-like';
}

function operationMatches(o: Operation, ctx: Ctx, unknown: Unknown): boolean {
  const port = ctx.conn.destinationPort;
  return (
    (!o.ports || inPorts(o.ports, port)) &&
    (!o.notPorts || !inPorts(o.notPorts, port)) &&
    (!o.methods || http(ctx, unknown, (r) => matchesAny(o.methods!, r.method))) &&
    (!o.notMethods || http(ctx, unknown, (r) => !matchesAny(o.notMethods!, r.method))) &&
    (!o.paths || http(ctx, unknown, (r) => matchesAny(o.paths!, r.path))) &&
    (!o.notPaths || http(ctx, unknown, (r) => !matchesAny(o.notPaths!, r.path))) &&
    (!o.hosts || http(ctx, unknown, (r) => matchesAny(o.hosts!.map((h) => h.toLowerCase()), r.host.toLowerCase()))) &&
    (!o.notHosts || http(ctx, unknown, (r) => !matchesAny(o.notHosts!.map((h) => h.toLowerCase()), r.host.toLowerCase())))
  );
}

function conditionMatches(c: Condition, ctx: Ctx, unknown: Unknown): boolean {
  const value = conditionValue(c.key, ctx);
  if (value === 'http-unavailable') return unknown === 'deny-like';
  const matchValue = (patterns: readonly string[]) =>
    c.key === 'source.ip' || c.key === 'destination.ip' ? inIpBlocks(patterns, value) : matchesAny(patterns, value);
  return (!c.values || matchValue(c.values)) && (!c.notValues || !matchValue(c.notValues));
}

function conditionValue(key: string, ctx: Ctx): string | undefined | 'http-unavailable' {
  const c = ctx.conn;
  switch (key) {
    case 'source.ip':
      return c.sourceIp;
    case 'source.namespace':
      return c.sourceNamespace;
    case 'source.principal':
      return c.sourcePrincipal;
    case 'destination.ip':
      return c.destinationIp;
    case 'destination.port':
      return c.destinationPort === undefined ? undefined : String(c.destinationPort);
  }
  if (!ctx.request) return 'http-unavailable';
  if (key.startsWith('request.headers[') && key.endsWith(']')) {
    const h = ctx.request.headers[key.slice('request.headers['.length, -1).toLowerCase()];
    return Array.isArray(h) ? h.join(',') : h;
  }
  return undefined;
}
