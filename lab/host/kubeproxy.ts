import { run } from './exec.js';

/**
 * The lab's kube-proxy: ClusterIP -> endpoint DNAT in each node's namespace,
 * with nftables, so pods outside the mesh reach Services exactly as on a real
 * node. (Meshed pods never hit these rules: their connect() goes to the node
 * agent, which balances on its own.) The whole table is replaced atomically.
 */
export interface ServiceRule {
  clusterIP: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  endpoints: { ip: string; port: number }[];
}

const TABLE = 'ambitlab';

export function renderRules(services: ServiceRule[]): string {
  const dnat: string[] = [];
  const empty: string[] = [];
  const sorted = [...services].sort((a, b) => `${a.clusterIP}:${a.port}`.localeCompare(`${b.clusterIP}:${b.port}`));
  for (const s of sorted) {
    const l4 = s.protocol === 'UDP' ? 'udp' : 'tcp';
    if (s.endpoints.length === 0) {
      if (l4 === 'tcp') empty.push(`${s.clusterIP} . ${s.port}`);
      continue;
    }
    const map = s.endpoints.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ');
    dnat.push(`    ip daddr ${s.clusterIP} ${l4} dport ${s.port} dnat ip to numgen random mod ${s.endpoints.length} map { ${map} }`);
  }
  const rejectRule = empty.length ? `ip daddr . tcp dport { ${empty.join(', ')} } reject with tcp reset;` : '';
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    '  chain services {',
    ...dnat,
    '  }',
    '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }',
    '  chain output { type nat hook output priority -100; policy accept; jump services; }',
    `  chain no_endpoints_forward { type filter hook forward priority filter; policy accept; ${rejectRule} }`,
    `  chain no_endpoints_output { type filter hook output priority filter; policy accept; ${rejectRule} }`,
    '}',
    '',
  ].join('\n');
}

export async function applyRules(netns: string, services: ServiceRule[]): Promise<void> {
  await run('nsenter', [`--net=/run/netns/${netns}`, 'nft', '-f', '-'], { input: renderRules(services) });
}
