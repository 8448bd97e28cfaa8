import { table, until } from '../format.js';
import { describePeerAuthn, describeRouteParents, describeRule, describeRules, describeScope, describeTrafficPolicy, ref } from '../proxies/describe.js';
import type { ConfigView } from './view.js';

const section = (title: string, rows: string[][], empty = '(none)') => `${title}\n${rows.length > 1 ? table(rows) : `${empty}\n`}`;

/** config-dump for people: one table per kind of resource, then the certificates and versions. */
export function renderView(v: ConfigView, now: number): string {
  const parts: string[] = [`${v.proxy}${v.complete ? '' : '   (config NOT complete: it admits nothing yet)'}`, ''];
  if (v.mtls) {
    const ports = Object.entries(v.mtls.ports).map(([p, m]) => `${p}: ${m.mode}${m.from ? ` (${m.from})` : ''}`).join(', ');
    parts.push(`mTLS: ${v.mtls.mode}${v.mtls.from ? ` (PeerAuthentication ${v.mtls.from})` : ' (no PeerAuthentication: the default)'}${ports ? `; ports ${ports}` : ''}`);
    parts.push(`Reached only through waypoint: ${v.guardedBy ? ref(v.guardedBy) : 'no'}`, '');
  }
  if (v.workloads.length) {
    parts.push(
      section('WORKLOADS', [
        ['NAMESPACE/NAME', 'IP', 'NODE', 'MESHED', 'IDENTITY', 'WAYPOINT'],
        ...v.workloads.map((w) => [ref(w), w.ip || '-', w.node, w.meshed ? 'yes' : 'no', w.identity || '-', w.waypoint ? ref(w.waypoint) : '-']),
      ]),
    );
  }
  parts.push(
    section('SERVICES', [
      ['NAMESPACE/NAME', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS', 'WAYPOINT', 'TRAFFIC POLICY'],
      ...v.services.map((s) => [
        ref(s),
        s.clusterIp || 'None',
        s.ports.map((p) => `${p.port}->${p.targetPort || p.targetPortName}${p.appProtocol ? `/${p.appProtocol}` : p.name ? `/${p.name}` : ''}`).join(','),
        `${s.endpoints.filter((e) => e.ready).length}/${s.endpoints.length}`,
        s.waypoint ? ref(s.waypoint) : '-',
        describeTrafficPolicy(s),
      ]),
    ]),
    section('AUTHORIZATION POLICIES', [
      ['NAMESPACE/NAME', 'ACTION', 'APPLIES TO', 'RULES'],
      ...v.authorizationPolicies.map((p) => [ref(p), p.action, describeScope(p) + (p.nodeAgentServices.length ? ` (node agents: ${p.nodeAgentServices.join(',')})` : ''), describeRules(p)]),
    ]),
    section('PEER AUTHENTICATIONS', [['NAMESPACE/NAME', 'APPLIES TO', 'MODE'], ...v.peerAuthentications.map((p) => [ref(p), describeScope({ ...p, targetRefs: [] }), describePeerAuthn(p)])]),
  );
  if (v.routes.length) {
    parts.push(
      section('ROUTES', [
        ['KIND', 'NAMESPACE/NAME', 'PARENTS', 'RULE', 'MATCH -> BACKENDS'],
        ...v.routes.flatMap((r) => r.rules.map((rule, i) => [r.kind, ref(r), describeRouteParents(r), rule.name || String(i), describeRule(rule)])),
      ]),
    );
  }
  parts.push(
    section('CERTIFICATES', [
      ['IDENTITY', 'EXPIRES', 'IN', 'ROTATES', 'LAST ERROR'],
      ...v.certificates.map((c) => [c.identity, c.notAfter ?? '-', c.notAfter ? until(Date.parse(c.notAfter), now) : '-', c.rotateAt ?? '-', c.lastError ?? '-']),
    ]),
    `VERSIONS  ${Object.entries(v.versions).map(([t, ver]) => `${t}=${ver || '-'}`).join('  ')}`,
  );
  return `${parts.join('\n')}\n`;
}
