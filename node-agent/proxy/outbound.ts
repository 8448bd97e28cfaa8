import net from 'node:net';
import type { Logger } from '../../lib/log.js';
import type { OriginalDst } from '../bpf/abi.js';
import type { AgentMetrics, TcpLabels } from '../admin/metrics.js';

/** Who is on the client side of a redirected connection. */
export interface SourceWorkload {
  namespace: string;
  workload: string;
  pod: string;
}

export interface OutboundDeps {
  takeOriginalDst(peerIp: string, peerPort: number): OriginalDst | undefined;
  sourceOf(ip: string): SourceWorkload | undefined;
  metrics: AgentMetrics;
  log: Logger;
  /** Log of one line per connection. */
  accessLog: Logger;
  connectTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The outbound capture listener (15001). Each accepted connection was
 * redirected by connect4; its original destination comes from the eBPF map.
 * For now the agent forwards as plain TCP (the mTLS tunnel replaces this hop
 * in the secure mesh). Failures reset the client instead of leaving it hanging.
 */
export function startOutbound(host: string, port: number, deps: OutboundDeps): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => handle(client, deps));
  server.on('error', (err) => deps.log.error({ err }, 'outbound listener failed'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function handle(client: net.Socket, deps: OutboundDeps): void {
  const started = Date.now();
  const peerIp = stripV4Mapped(client.remoteAddress ?? '');
  const peerPort = client.remotePort ?? 0;
  client.on('error', () => {}); // reported through 'close' below
  const orig = deps.takeOriginalDst(peerIp, peerPort);
  if (!orig) {
    deps.metrics.redirectMisses.inc();
    deps.log.warn(
      { code: 'AMBIT_ERR_ORIGINAL_DST', peer: `${peerIp}:${peerPort}` },
      'connection on the outbound port was not redirected by this node: refusing',
    );
    client.resetAndDestroy();
    return;
  }
  const src = deps.sourceOf(peerIp);
  const labels: TcpLabels = {
    reporter: 'source',
    source_workload: src?.workload ?? 'unknown',
    source_workload_namespace: src?.namespace ?? 'unknown',
    source_principal: 'unknown',
    destination_workload: 'unknown',
    destination_workload_namespace: 'unknown',
    destination_service: `${orig.ip}:${orig.port}`,
    destination_principal: 'unknown',
    connection_security_policy: 'none',
    response_flags: '-',
  };
  deps.metrics.opened.inc(labels);

  const upstream = net.connect({ host: orig.ip, port: orig.port, allowHalfOpen: true, noDelay: true });
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  let connected = false;
  let failure: string | undefined;
  upstream.once('connect', () => {
    connected = true;
    clearTimeout(timer);
  });
  upstream.on('error', (err) => {
    failure ??= connected ? `upstream: ${err.message}` : `connect: ${err.message}`;
    clearTimeout(timer);
    client.resetAndDestroy();
  });
  client.on('error', (err) => {
    failure ??= `client: ${err.message}`;
    upstream.resetAndDestroy();
  });
  client.pipe(upstream);
  upstream.pipe(client);

  let closedSides = 0;
  const onClose = () => {
    if (++closedSides < 2) return;
    const flags = failure ? (connected ? 'UR' : 'UF') : '-';
    const done = { ...labels, response_flags: flags };
    deps.metrics.closed.inc(done);
    deps.metrics.received.inc(done, client.bytesRead);
    deps.metrics.sent.inc(done, client.bytesWritten);
    deps.accessLog.info({
      src: { ip: peerIp, port: peerPort, workload: src?.workload, namespace: src?.namespace, pod: src?.pod },
      dst: { ip: orig.ip, port: orig.port },
      bytes_received: client.bytesRead,
      bytes_sent: client.bytesWritten,
      duration_ms: Date.now() - started,
      security: 'none',
      result: failure ? 'error' : 'ok',
      ...(failure ? { error: failure, response_flags: flags } : {}),
    });
  };
  client.once('close', onClose);
  upstream.once('close', onClose);
}

export function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
