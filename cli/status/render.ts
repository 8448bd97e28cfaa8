import { RESOURCE_TYPES, type ResourceType } from '../../lib/xds/index.js';
import { table, until } from '../format.js';
import type { StatusReport, TypeStatus } from './report.js';

/** Column headers per type, short as istioctl's CDS/LDS/EDS. */
const COLUMN: Record<ResourceType, string> = { Node: 'NODES', Workload: 'WORKLOADS', Service: 'SERVICES', AuthorizationPolicy: 'AUTHZ', PeerAuthentication: 'PEERAUTHN', Route: 'ROUTES' };

const cell = (t: TypeStatus | undefined) => (t ? (t.state === 'SYNCED' ? `SYNCED (${t.acked})` : t.state) : '-');

/** People's view: the control plane, a proxy-status table, then what is wrong and what to do. */
export function renderStatus(r: StatusReport, now: number): string {
  const t = r.target;
  const out = [`ambit status: ${t.kind === 'lab' ? `lab ${t.name}` : `context ${t.name}`} (${t.server})`, ''];
  out.push(
    table([
      ['CONTROLLER', 'READY', 'STREAMS', 'SERVING CERT EXPIRES', 'ROOTS EXPIRE'],
      ...r.controlPlane.map((c) => [
        c.name,
        c.ready ? 'yes' : `no: ${c.detail}`,
        String(c.streams),
        c.servingCert ? until(Date.parse(c.servingCert.notAfter), now) : '-',
        c.trustBundle?.length ? c.trustBundle.map((b) => until(Date.parse(b.notAfter), now)).join(',') : '-',
      ]),
    ]),
  );
  if (r.controlPlane.length === 0) out.push('(no controller running)\n');
  out.push(
    table([
      ['PROXY', 'KIND', 'NODE', 'CONTROLLER', ...RESOURCE_TYPES.map((x) => COLUMN[x]), 'CERT EXPIRES'],
      ...r.proxies.map((p) => [
        p.name,
        p.kind === 'waypoint' ? `waypoint ${p.waypoint ? p.waypoint.name : '?'}` : 'node-agent',
        p.node ?? '-',
        p.controller ?? `NOT CONNECTED (${p.stream ?? '?'})`,
        ...RESOURCE_TYPES.map((x) => cell(p.types[x])),
        p.certExpiry ? until(Date.parse(p.certExpiry), now) : '-',
      ]),
    ]),
  );
  if (r.healthy) out.push(`All ${r.proxies.length} proxies hold the latest config.`);
  else {
    out.push('Problems:');
    for (const p of r.problems) out.push(`  × ${p}`);
    out.push(
      '',
      "hint: STALE for more than a few seconds, or NACKED: 'ambit config-dump' shows what the proxy holds, its log says why it rejected (AMBIT_ERR_CONFIG_NACK); NOT CONNECTED: the proxy's log (AMBIT_ERR_AGENT_AUTH, AMBIT_ERR_CONTROLLER_TLS)",
    );
  }
  return `${out.join('\n')}\n`;
}
