import type { AuthorizationPolicy, PeerAuthentication, Route, RouteMatch, RouteRule, Service, TrafficPolicy } from '../../lib/xds/index.js';

/**
 * One-line descriptions of pushed resources, shared by config-dump's tables and policy
 * explain's steps so that both say a thing the same way.
 */

export const ref = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;

export function describeScope(p: Pick<AuthorizationPolicy, 'scope' | 'selector' | 'targetRefs' | 'namespace'>): string {
  switch (p.scope) {
    case 'MESH':
      return 'mesh-wide';
    case 'NAMESPACE':
      return `namespace ${p.namespace}`;
    case 'WORKLOAD_SELECTOR':
      return `pods ${Object.entries(p.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`;
    case 'TARGET_REFS':
      return p.targetRefs.map((t) => `${t.kind} ${t.name}`).join(', ');
  }
}

const list = (label: string, xs: readonly (string | number)[]) => (xs.length ? [`${label}=${xs.join('|')}`] : []);

/** A policy's rules, compactly: `from principals=a|b, to ports=80 methods=GET; ...`. */
export function describeRules(p: AuthorizationPolicy): string {
  if (p.rules.length === 0) return p.action === 'ALLOW' ? '(no rules: matches nothing)' : '(no rules)';
  return p.rules
    .map((r) => {
      const from = r.from.flatMap((s) => [
        ...list('principals', s.principals),
        ...list('notPrincipals', s.notPrincipals),
        ...list('namespaces', s.namespaces),
        ...list('notNamespaces', s.notNamespaces),
        ...list('ipBlocks', s.ipBlocks),
        ...list('notIpBlocks', s.notIpBlocks),
      ]);
      const to = r.to.flatMap((o) => [
        ...list('ports', o.ports),
        ...list('notPorts', o.notPorts),
        ...list('methods', o.methods),
        ...list('notMethods', o.notMethods),
        ...list('paths', o.paths),
        ...list('notPaths', o.notPaths),
        ...list('hosts', o.hosts),
        ...list('notHosts', o.notHosts),
      ]);
      const when = [...r.when, ...r.l7When].map((c) => `${c.key}${c.values.length ? `=${c.values.join('|')}` : ''}${c.notValues.length ? `!=${c.notValues.join('|')}` : ''}`);
      const parts = [from.length ? `from ${from.join(' ')}` : '', to.length ? `to ${to.join(' ')}` : '', when.length ? `when ${when.join(' ')}` : ''].filter(Boolean);
      return parts.length ? parts.join(', ') : 'anything';
    })
    .join('; ');
}

export function describePeerAuthn(p: PeerAuthentication): string {
  const ports = p.portLevelMtls.map((m) => `${m.port}:${m.mode}`).join(',');
  return `${p.mode === 'UNSET' ? '(inherit)' : p.mode}${ports ? ` ports ${ports}` : ''}`;
}

export function describeMatch(m: RouteMatch): string {
  const parts: string[] = [];
  if (m.path) parts.push(`${m.path.type === 'EXACT' ? 'path=' : m.path.type === 'PATH_PREFIX' ? 'prefix=' : 'regex='}${m.path.value}`);
  if (m.method) parts.push(`method=${m.method}`);
  for (const h of m.headers) parts.push(`header ${h.name}${h.type === 'REGULAR_EXPRESSION' ? '~' : '='}${h.value}`);
  for (const q of m.queryParams) parts.push(`query ${q.name}${q.type === 'REGULAR_EXPRESSION' ? '~' : '='}${q.value}`);
  return parts.join(' ') || 'any';
}

export function describeRule(rule: RouteRule): string {
  const matches = rule.matches.length ? rule.matches.map(describeMatch).join(' | ') : 'any';
  const backends = rule.backends.map((b) => `${b.ref ? `${b.ref.namespace}/${b.ref.name}${b.ref.port ? `:${b.ref.port}` : ''}` : '?'} w${b.weight}`).join(', ');
  const filters = rule.filters.map((f) => Object.keys(f).find((k) => (f as unknown as Record<string, unknown>)[k]) ?? '?');
  return `${matches} -> ${backends || (filters.includes('requestRedirect') ? 'redirect' : '(no backend: 500)')}${filters.length ? ` [${filters.join(',')}]` : ''}${rule.requestTimeoutMs ? ` timeout ${rule.requestTimeoutMs}ms` : ''}`;
}

export function describeRouteParents(r: Route): string {
  return r.parents.map((p) => `${p.namespace}/${p.name}${p.port ? `:${p.port}` : ''}${p.consumer ? ' (consumer)' : ''}`).join(', ');
}

/** The TrafficPolicy's L7 half as the waypoint applies it, or `none`. */
export function describeTrafficPolicy(s: Pick<Service, 'trafficPolicy' | 'lbPolicy' | 'lbHashHeader'>): string {
  const t: TrafficPolicy | null = s.trafficPolicy;
  const parts = [`lb ${s.lbPolicy}${s.lbHashHeader ? `(${s.lbHashHeader})` : ''}`];
  if (t) {
    if (t.retries) parts.push(`retries ${t.retries.attempts}${t.retries.retryOn.length ? ` on ${t.retries.retryOn.join(',')}` : ''}`);
    if (t.timeoutMs) parts.push(`timeout ${t.timeoutMs}ms`);
    if (t.connectionPool) parts.push(`pool ${JSON.stringify(t.connectionPool)}`);
    if (t.outlierDetection) parts.push(`outlier ejection after ${t.outlierDetection.consecutive_5xxErrors} 5xx`);
    if (t.fault) parts.push(`fault ${JSON.stringify(t.fault)}`);
    if (t.localRateLimit) parts.push(`rate limit ${JSON.stringify(t.localRateLimit)}`);
  }
  return `${t ? `${t.name}: ` : ''}${parts.join(', ')}`;
}
