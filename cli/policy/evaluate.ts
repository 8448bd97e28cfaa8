import { authorize, principalNamespace, type ConnectionAttributes, type PolicyRef, type RequestAttributes } from '../../lib/policy/index.js';
import type { AuthorizationPolicy } from '../../lib/xds/index.js';
import type { MeshState } from '../../node-agent/state/mesh-state.js';
import { describeRules } from '../proxies/describe.js';
import type { PolicyVerdict } from './types.js';

const ORDER: Record<string, number> = { DENY: 0, ALLOW: 1, AUDIT: 2 };

/** The attributes a proxy reads of a connection from `principal` (as the node agent and the waypoint build them). */
export function connectionOf(principal: string | undefined, sourceIp: string | undefined, destinationIp: string, destinationPort: number): ConnectionAttributes {
  const p = principal?.replace(/^spiffe:\/\//, '');
  return { sourcePrincipal: p, sourceNamespace: principalNamespace(p), sourceIp, destinationIp, destinationPort };
}

/**
 * Each applicable policy on its own, through the proxies' evaluator (`authorize` with that
 * one policy), in the order authorization reads them: DENY, then ALLOW, then AUDIT. Which
 * one decided (`decidedBy`) comes from the proxy's own decision.
 */
export function policyVerdicts(state: MeshState, refs: readonly PolicyRef[], conn: ConnectionAttributes, request: RequestAttributes | undefined, decidedBy: string | undefined): PolicyVerdict[] {
  const pushed = new Map<string, AuthorizationPolicy>(state.all('AuthorizationPolicy').map((p) => [`${p.namespace}/${p.name}`, p]));
  return [...refs]
    .sort((a, b) => (ORDER[a.action] ?? 3) - (ORDER[b.action] ?? 3) || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
    .map((p) => {
      const name: string = `${p.namespace}/${p.name}`;
      const alone = authorize([p], conn, request);
      const matches = p.action === 'DENY' ? !alone.allowed : p.action === 'ALLOW' ? alone.allowed : alone.audited.includes(name);
      const src: AuthorizationPolicy | undefined = pushed.get(name);
      const l7 = src?.rules.some((r) => r.hasL7);
      return {
        policy: name,
        action: p.action,
        matches,
        decisive: decidedBy === name,
        rules: src ? describeRules(src) : '',
        ...(l7 && !request ? { note: `its HTTP fields cannot be read here and fail closed (${p.action === 'ALLOW' ? 'the rule grants nothing' : 'the rule counts as matching'})` } : {}),
      };
    });
}
