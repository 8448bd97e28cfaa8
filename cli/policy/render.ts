import type { Explanation, Step } from './types.js';

const MARK = (ok: boolean) => (ok ? '√' : '×');

function stepLines(s: Step, n: number): string[] {
  const lines = [`${n}. ${s.at === 'source' ? 'Source' : s.at === 'waypoint' ? 'Waypoint' : 'Destination'}: ${s.proxy}${s.endpoint ? `, endpoint ${s.endpoint}` : ''}`, `   ${MARK(s.allowed)} ${s.summary}`];
  if (s.mtls) lines.push(`   mTLS: ${s.mtls.mode}${s.mtls.from ? ` (PeerAuthentication ${s.mtls.from})` : ' (no PeerAuthentication: the default)'}; arrives as ${s.mtls.transport === 'mtls' ? 'mutual TLS' : 'plaintext'}`);
  if (s.policies) {
    if (s.policies.length === 0) lines.push('   AuthorizationPolicies: none apply here (allowed)');
    else {
      lines.push('   AuthorizationPolicies (DENY first, then ALLOW, then AUDIT):');
      for (const p of s.policies) {
        const what = p.action === 'AUDIT' ? (p.matches ? 'would be audited' : 'not audited') : p.matches ? 'matches' : 'does not match';
        lines.push(`     ${p.decisive ? '=>' : '  '} ${p.action.padEnd(5)} ${p.policy}: ${what}${p.decisive ? ' (decides)' : ''}`);
        if (p.rules) lines.push(`              rules: ${p.rules}`);
        if (p.note) lines.push(`              note: ${p.note}`);
      }
    }
  }
  if (s.route) {
    if (s.route.name === null) lines.push(`   Route: ${s.route.reason}`);
    else lines.push(`   Route: ${s.route.name}, rule ${s.route.rule} (match ${s.route.match}) -> ${s.route.backends.join(', ') || '(no backend)'}`);
  }
  if (s.trafficPolicy) lines.push(`   TrafficPolicy: ${s.trafficPolicy}`);
  if (!s.allowed || s.reason) lines.push(`   ${s.allowed ? 'but' : 'because'}: ${s.reason}${s.answer ? `; the client gets: ${s.answer}` : ''}`);
  return lines;
}

/** policy explain for people: the call, each proxy on its path in order, then the verdict. */
export function renderExplanation(e: Explanation): string {
  const d = e.destination;
  const out = [
    `Call: ${e.source.pod} (${e.source.identity}${e.source.meshed ? '' : ', not meshed'}, on ${e.source.node}) -> ${d.asked} (${d.address}, ${d.protocol === 'http' ? 'HTTP' : 'TCP'})`,
    `Path: source agent${e.waypoint ? ` -> waypoint ${e.waypoint.namespace}/${e.waypoint.name}` : ''} -> destination agent`,
    '',
  ];
  e.steps.forEach((s, i) => out.push(...stepLines(s, i + 1), ''));
  out.push(`Verdict: ${e.verdict}: ${e.reason}`);
  return `${out.join('\n')}\n`;
}
