import { execFile } from 'node:child_process';
import type { Server } from 'node:net';
import koffi from 'koffi';
import { AmbitError } from '../../lib/errors.js';

/**
 * Inbound plaintext capture for meshed pods on this node, in the agent's
 * own nftables table (the analogue of the rules Istio's CNI installs):
 * connections from outside the mesh to a PERMISSIVE pod are handed to the
 * agent's 15006 listener by TPROXY (the accepted socket keeps the pod's
 * address as its local address, so the original destination is simply
 * `socket.localAddress`); to a STRICT pod they are refused with a reset.
 * Only forwarded traffic is matched: the agent's own connections to its pods
 * (delivering HBONE) are locally generated and pass.
 */
export type InboundMode = 'STRICT' | 'PERMISSIVE';

const TABLE = 'ambit_inbound';
export const TPROXY_MARK = 0x1a0;
const ROUTE_TABLE = '1440';

export interface InboundCapture {
  /** Makes the sets exactly these pods. */
  update(pods: readonly { ip: string; mode: InboundMode }[]): Promise<void>;
  close(): Promise<void>;
}

function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (err, _out, stderr) =>
      err ? reject(new AmbitError('AMBIT_ERR_PRIVILEGE', `nft failed: ${stderr.trim() || err.message} (is nftables with TPROXY available?)`)) : resolve(),
    );
    child.stdin?.end(script);
  });
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve) => execFile('ip', args, () => resolve()));
}

export function renderInbound(pods: readonly { ip: string; mode: InboundMode }[], port: number): string {
  const set = (mode: InboundMode) => {
    const ips = pods.filter((p) => p.mode === mode).map((p) => p.ip).sort();
    return ips.length ? `elements = { ${ips.join(', ')} }` : '';
  };
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    `  set permissive { type ipv4_addr; ${set('PERMISSIVE')} }`,
    `  set strict { type ipv4_addr; ${set('STRICT')} }`,
    '  chain prerouting {',
    // After DNAT (-100): a client that addressed a ClusterIP is matched by
    // the pod it was balanced to.
    '    type filter hook prerouting priority -90; policy accept;',
    // Packets of a connection the agent already accepted go to that socket.
    `    ip daddr @permissive meta l4proto tcp socket transparent 1 meta mark set ${TPROXY_MARK} accept`,
    `    ip daddr @permissive meta l4proto tcp tproxy to :${port} meta mark set ${TPROXY_MARK} accept`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ip daddr @strict meta l4proto tcp reject with tcp reset',
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function startInboundCapture(port: number): Promise<InboundCapture> {
  // TPROXY-marked packets are delivered locally whatever their destination.
  await ip(['rule', 'del', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
  await ip(['rule', 'add', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
  await ip(['route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', ROUTE_TABLE]);
  let last = '';
  const capture: InboundCapture = {
    update: async (pods) => {
      const script = renderInbound(pods, port);
      if (script === last) return;
      await nft(script);
      last = script;
    },
    close: async () => {
      await nft(`table ip ${TABLE}\ndelete table ip ${TABLE}\n`).catch(() => undefined);
      await ip(['rule', 'del', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
    },
  };
  await capture.update([]);
  return capture;
}

const SOL_IP = 0;
const IP_TRANSPARENT = 19;
let setsockopt: ((fd: number, level: number, name: number, value: Buffer, len: number) => number) | undefined;

/**
 * TPROXY hands connections for foreign addresses only to listeners marked
 * IP_TRANSPARENT, which Node cannot set: call setsockopt(2) on the
 * listener's descriptor through koffi. Needs CAP_NET_ADMIN.
 */
export function makeTransparent(server: Server): void {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new AmbitError('AMBIT_ERR_PRIVILEGE', 'cannot reach the listener descriptor to set IP_TRANSPARENT');
  setsockopt ??= koffi.load('libc.so.6').func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as unknown as NonNullable<typeof setsockopt>;
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  if (setsockopt!(fd, SOL_IP, IP_TRANSPARENT, one, 4) !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `setsockopt(IP_TRANSPARENT) failed (errno ${koffi.errno()}): the agent needs CAP_NET_ADMIN`);
  }
}
