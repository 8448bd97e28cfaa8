import { isIP, isIPv4 } from 'node:net';
import { ipOrCidrProblem } from '../../lib/crds/net.js';
import { re2Problem } from '../../lib/crds/regex.js';
import type { AuthorizationPolicy, BackendRef, L4Rule, Node, PeerAuthentication, ResourceMap, ResourceType, Route, RouteFilter, Service, StringMatch, Workload } from '../../lib/xds/index.js';

/**
 * Checks one pushed resource before anything of its update is applied. The
 * controller validates what it compiles, but the agent does not trust the
 * channel to be bug-free: a value that would throw later, inside a
 * connection (a malformed CIDR, an address that is not one), must be
 * refused here, so the whole update is NACKed and the last good state stays.
 * Returns what is wrong, naming the resource and the field, or undefined.
 */
export function resourceProblem<T extends ResourceType>(type: T, r: ResourceMap[T]): string | undefined {
  if (!r || typeof r !== 'object') return `${type}: not an object`;
  switch (type) {
    case 'Node': {
      const n = r as Node;
      if (!nonEmpty(n.name)) return 'Node without name';
      return isIP(n.ip) ? undefined : `Node ${n.name}: ip ${JSON.stringify(n.ip)} is not an address`;
    }
    case 'Workload':
      return workloadProblem(r as Workload);
    case 'Service':
      return serviceProblem(r as Service);
    case 'AuthorizationPolicy':
      return policyProblem(r as AuthorizationPolicy);
    case 'PeerAuthentication':
      return peerAuthenticationProblem(r as PeerAuthentication);
    case 'Route':
      return routeProblem(r as Route);
  }
  return `unknown resource type ${String(type)}`;
}

const SPIFFE = /^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/[^/]+$/;
const SCOPES = ['NAMESPACE', 'MESH', 'WORKLOAD_SELECTOR', 'TARGET_REFS'];
const isPort = (n: unknown, allowZero = false): boolean => Number.isInteger(n) && (n as number) >= (allowZero ? 0 : 1) && (n as number) <= 65535;
const nonEmpty = (s: unknown): boolean => typeof s === 'string' && s.length > 0;

function named(kind: string, r: { namespace?: unknown; name?: unknown }): string | undefined {
  return nonEmpty(r.namespace) && nonEmpty(r.name) ? undefined : `${kind} without namespace/name`;
}

function workloadProblem(w: Workload): string | undefined {
  if (!nonEmpty(w.uid)) return 'Workload without uid';
  const at = `Workload ${String(w.namespace)}/${String(w.name)} (${w.uid})`;
  if (w.ip !== '' && !isIPv4(w.ip)) return `${at}: ip ${JSON.stringify(w.ip)} is not an IPv4 address`;
  if (w.identity !== '' && !SPIFFE.test(w.identity)) return `${at}: identity ${JSON.stringify(w.identity)} is not spiffe://<td>/ns/<ns>/sa/<sa>`;
  if (w.meshed && !w.identity) return `${at}: meshed without an identity`;
  return undefined;
}

function serviceProblem(s: Service): string | undefined {
  const missing = named('Service', s);
  if (missing) return missing;
  const at = `Service ${s.namespace}/${s.name}`;
  if (s.clusterIp !== '' && !isIP(s.clusterIp)) return `${at}: clusterIp ${JSON.stringify(s.clusterIp)} is not an address`;
  for (const p of s.ports) if (!isPort(p.port) || !isPort(p.targetPort, true)) return `${at}: port ${p.port} -> ${p.targetPort} out of range`;
  for (const e of s.endpoints) {
    if (!isIP(e.address)) return `${at}: endpoint address ${JSON.stringify(e.address)} is not an address`;
    for (const m of e.ports) if (!isPort(m.servicePort) || !isPort(m.targetPort)) return `${at}: endpoint ${e.address} maps ${m.servicePort} -> ${m.targetPort}, out of range`;
  }
  if (!['ROUND_ROBIN', 'LEAST_REQUEST', 'CONSISTENT_HASH'].includes(s.lbPolicy)) return `${at}: unknown lbPolicy ${JSON.stringify(s.lbPolicy)}`;
  return undefined;
}

function ruleProblem(rule: L4Rule, at: string): string | undefined {
  for (const src of rule.from) {
    for (const b of [...src.ipBlocks, ...src.notIpBlocks]) {
      const problem = ipOrCidrProblem(b);
      if (problem) return `${at}: ipBlocks ${problem}`;
    }
  }
  for (const op of rule.to) for (const p of [...op.ports, ...op.notPorts]) if (!isPort(p)) return `${at}: port ${p} out of range`;
  for (const c of rule.when) {
    for (const v of [...c.values, ...c.notValues]) {
      const problem = c.key === 'source.ip' || c.key === 'destination.ip' ? ipOrCidrProblem(v) : c.key === 'destination.port' && !isPort(Number(v)) ? `port ${v} out of range` : undefined;
      if (problem) return `${at}: when ${c.key} ${problem}`;
    }
  }
  return undefined;
}

function policyProblem(p: AuthorizationPolicy): string | undefined {
  const missing = named('AuthorizationPolicy', p);
  if (missing) return missing;
  const at = `AuthorizationPolicy ${p.namespace}/${p.name}`;
  if (!['ALLOW', 'DENY', 'AUDIT'].includes(p.action)) return `${at}: unknown action ${String(p.action)}`;
  if (!SCOPES.includes(p.scope)) return `${at}: unknown scope ${String(p.scope)}`;
  for (const [i, rule] of p.rules.entries()) {
    const problem = ruleProblem(rule, `${at} rules[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

function peerAuthenticationProblem(p: PeerAuthentication): string | undefined {
  const missing = named('PeerAuthentication', p);
  if (missing) return missing;
  const at = `PeerAuthentication ${p.namespace}/${p.name}`;
  const modes = ['UNSET', 'STRICT', 'PERMISSIVE'];
  if (!modes.includes(p.mode)) return `${at}: unknown mode ${String(p.mode)}`;
  if (!SCOPES.includes(p.scope)) return `${at}: unknown scope ${String(p.scope)}`;
  for (const pm of p.portLevelMtls) if (!isPort(pm.port) || !modes.includes(pm.mode)) return `${at}: portLevelMtls ${pm.port}: ${String(pm.mode)}`;
  return undefined;
}

const STRING_MATCH_TYPES = ['EXACT', 'PATH_PREFIX', 'REGULAR_EXPRESSION'];
const REDIRECT_CODES = [301, 302, 303, 307, 308];

function stringMatchProblem(m: StringMatch, at: string): string | undefined {
  if (!STRING_MATCH_TYPES.includes(m.type)) return `${at}: unknown match type ${String(m.type)}`;
  if (m.type === 'REGULAR_EXPRESSION') {
    // Compiled here once, so a pattern the waypoint's RE2 would refuse NACKs the update instead of failing per request.
    const problem = re2Problem(m.value);
    if (problem) return `${at}: ${JSON.stringify(m.value)} ${problem}`;
  }
  return undefined;
}

function backendRefProblem(b: BackendRef, at: string): string | undefined {
  if (!nonEmpty(b.namespace) || !nonEmpty(b.name)) return `${at}: backend without namespace/name`;
  return isPort(b.port) ? undefined : `${at}: backend port ${b.port} out of range`;
}

function filterProblem(f: RouteFilter, at: string): string | undefined {
  if (f.requestMirror) {
    const m = f.requestMirror;
    if (!m.backend) return `${at}: mirror without a backend`;
    if (!Number.isInteger(m.denominator) || m.denominator < 1 || m.numerator > m.denominator) return `${at}: mirror share ${m.numerator}/${m.denominator}`;
    return backendRefProblem(m.backend, at);
  }
  if (f.requestRedirect) {
    const r = f.requestRedirect;
    if (!REDIRECT_CODES.includes(r.statusCode)) return `${at}: redirect status ${r.statusCode}`;
    if (!isPort(r.port, true)) return `${at}: redirect port ${r.port} out of range`;
  }
  const set = [f.requestHeaderModifier, f.responseHeaderModifier, f.requestMirror, f.requestRedirect, f.urlRewrite].filter(Boolean).length;
  return set === 1 ? undefined : `${at}: a filter must carry exactly one action`;
}

function routeProblem(r: Route): string | undefined {
  const missing = named('Route', r);
  if (missing) return missing;
  const at = `Route ${String(r.kind)}/${r.namespace}/${r.name}`;
  if (r.kind !== 'HTTP' && r.kind !== 'GRPC') return `${at}: unknown kind ${String(r.kind)}`;
  if (r.parents.length === 0) return `${at}: no parents`;
  for (const p of r.parents) {
    if (!nonEmpty(p.namespace) || !nonEmpty(p.name)) return `${at}: parent without namespace/name`;
    if (!isPort(p.port, true)) return `${at}: parent port ${p.port} out of range`;
  }
  for (const [i, rule] of r.rules.entries()) {
    const ra = `${at} rules[${i}]`;
    for (const m of rule.matches) {
      for (const sm of [...(m.path ? [m.path] : []), ...m.headers, ...m.queryParams]) {
        const problem = stringMatchProblem(sm, ra);
        if (problem) return problem;
      }
    }
    for (const f of rule.filters) {
      const problem = filterProblem(f, ra);
      if (problem) return problem;
    }
    for (const b of rule.backends) {
      if (!Number.isInteger(b.weight) || b.weight < 0) return `${ra}: backend weight ${b.weight}`;
      // An unset ref is an unresolved backend (its share gets 500), not a fault.
      const problem = (b.ref && backendRefProblem(b.ref, ra)) || b.filters.map((f) => filterProblem(f, ra)).find(Boolean);
      if (problem) return problem;
    }
  }
  return undefined;
}
