import { execFile } from 'node:child_process';
import { AmbitError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

/**
 * Inbound plaintext capture for meshed pods on this node, in the agent's own
 * nftables table (the analogue of the rules Istio's CNI installs). Only
 * forwarded traffic is matched: the agent's own connections to its pods
 * (delivering HBONE) are locally generated and pass.
 *
 * - A new connection (a SYN) from outside the mesh to a PERMISSIVE pod is
 *   handed to the agent's 15006 listener by TPROXY; the accepted socket keeps
 *   the pod's address as its local address, so the original destination is
 *   simply `socket.localAddress`.
 * - Any other new connection to a meshed pod is refused with a reset: a
 *   STRICT pod, or a PERMISSIVE one while no agent listens on 15006 (TPROXY
 *   finds no socket and falls through). The node fails closed while its agent
 *   restarts.
 * - Packets of a connection a transparent socket of the agent owns are
 *   delivered to the agent, whatever their addresses: the plaintext
 *   connections it accepted, and the replies of the pods to the agent's own
 *   upstream connections, which carry the client's address (source address
 *   preservation, see transparent.ts).
 * - Packets of connections that were open before a pod joined or left the
 *   mesh are not SYNs and match nothing, so changing a label never resets an
 *   open connection.
 *
 * The table is kernel state that outlives the agent: a restarted or crashed
 * agent finds it as the last one left it and re-adopts it, and it is replaced
 * only after the new agent has its first complete config. Only an uninstall
 * (`close({ remove: true })`) deletes it.
 */
export type InboundMode = 'STRICT' | 'PERMISSIVE';

export interface CapturedPod {
  ip: string;
  mode: InboundMode;
}

const TABLE = 'ambit_inbound';
export const TPROXY_MARK = 0x1a0;
const ROUTE_TABLE = '1440';

/** Runs an nft script (`nft -f -`); injectable for tests. */
export type NftRunner = (script: string) => Promise<void>;

export interface InboundCapture {
  /**
   * Makes the sets exactly these pods. Updates apply one at a time in call
   * order; one that arrives while another runs waits, and only the newest of
   * the waiting ones is applied, so an older set never lands last.
   */
  update(pods: readonly CapturedPod[]): Promise<void>;
  /** Waits for pending updates; with `remove`, deletes the table and the routing it needs (uninstall). */
  close(opts: { remove: boolean }): Promise<void>;
}

const nft: NftRunner = (script) =>
  new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (err, _out, stderr) =>
      err ? reject(new AmbitError('AMBIT_ERR_PRIVILEGE', `nft failed: ${stderr.trim() || err.message} (is nftables with TPROXY available?)`)) : resolve(),
    );
    child.stdin?.end(script);
  });

function ip(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('ip', args, (err, out) => resolve(err ? '' : out)));
}

/** TCP packets that open a connection: SYN without ACK. */
const NEW_TCP = 'tcp flags & (syn | ack) == syn';

export function renderInbound(pods: readonly CapturedPod[], port: number): string {
  const set = (ips: string[]) => (ips.length ? `elements = { ${[...ips].sort().join(', ')} }` : '');
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    `  set meshed { type ipv4_addr; ${set(pods.map((p) => p.ip))} }`,
    `  set permissive { type ipv4_addr; ${set(pods.filter((p) => p.mode === 'PERMISSIVE').map((p) => p.ip))} }`,
    '  chain prerouting {',
    // After DNAT (-100): a client that addressed a ClusterIP is matched by the pod it was balanced to.
    '    type filter hook prerouting priority -90; policy accept;',
    `    meta l4proto tcp socket transparent 1 meta mark set ${TPROXY_MARK} accept`,
    `    ip daddr @permissive ${NEW_TCP} tproxy to :${port} meta mark set ${TPROXY_MARK} accept`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    // What reaches here was not taken by TPROXY: STRICT, or no agent listening.
    `    ip daddr @meshed ${NEW_TCP} reject with tcp reset`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface InboundCaptureOptions {
  port: number;
  log: Logger;
  run?: NftRunner;
  /** Whether the table is already in the kernel (default: asks nft). */
  tableExists?: () => Promise<boolean>;
  /** Installs the policy routing TPROXY needs (default: ip rule / ip route). */
  routing?: { ensure(): Promise<void>; remove(): Promise<void> };
}

/**
 * Takes over the node's capture table: an existing one is kept exactly as it
 * is (an earlier agent's pods stay protected until this one knows better); a
 * missing one is created empty.
 */
export async function startInboundCapture(opts: InboundCaptureOptions): Promise<InboundCapture> {
  const run = opts.run ?? nft;
  const routing = opts.routing ?? policyRouting;
  await routing.ensure();
  const exists = await (opts.tableExists ?? tableInKernel)();
  let last: string | undefined;
  if (exists) opts.log.info({ table: TABLE }, 'inbound capture table found: re-adopted as it is until the first complete config');
  else {
    // A node that never had one: nothing is meshed here yet, so nothing to capture.
    last = renderInbound([], opts.port);
    await run(last);
  }

  let running: Promise<void> = Promise.resolve();
  let waiting: { pods: readonly CapturedPod[]; done: Promise<void> } | undefined;
  const apply = async (pods: readonly CapturedPod[]): Promise<void> => {
    const script = renderInbound(pods, opts.port);
    if (script === last) return;
    await run(script);
    last = script;
  };
  return {
    update: (pods) => {
      if (waiting) {
        waiting.pods = pods;
        return waiting.done;
      }
      const entry: { pods: readonly CapturedPod[]; done: Promise<void> } = { pods, done: Promise.resolve() };
      entry.done = running.catch(() => undefined).then(() => {
        waiting = undefined;
        return apply(entry.pods);
      });
      waiting = entry;
      running = entry.done;
      return entry.done;
    },
    close: async ({ remove }) => {
      await running.catch(() => undefined);
      if (!remove) return;
      await run(`table ip ${TABLE}\ndelete table ip ${TABLE}\n`).catch(() => undefined);
      await routing.remove();
    },
  };
}

async function tableInKernel(): Promise<boolean> {
  return new Promise((resolve) => execFile('nft', ['list', 'table', 'ip', TABLE], (err) => resolve(!err)));
}

/** TPROXY-marked packets are delivered locally whatever their destination. Added only when missing: no window without it. */
const policyRouting = {
  ensure: async (): Promise<void> => {
    const rules = await ip(['rule', 'show', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
    if (!rules.trim()) await ip(['rule', 'add', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
    await ip(['route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', ROUTE_TABLE]);
  },
  remove: async (): Promise<void> => {
    await ip(['rule', 'del', 'fwmark', String(TPROXY_MARK), 'lookup', ROUTE_TABLE]);
    await ip(['route', 'del', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', ROUTE_TABLE]);
  },
};
