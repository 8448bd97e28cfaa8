import type { Server, Socket } from 'node:net';
import { HbonePool, startHboneServer, type HboneServer } from '../../lib/hbone/index.js';
import { logger, type Logger } from '../../lib/log.js';
import { sniToIdentity } from '../../lib/mesh/sni.js';
import type { AgentMetrics } from '../admin/metrics.js';
import type { OriginalDstReader } from '../bpf/loader.js';
import type { AgentConfig } from '../config.js';
import type { FastPath } from '../fastpath/index.js';
import { Inbound } from '../proxy/inbound.js';
import { startOutbound } from '../proxy/outbound.js';
import type { BalancerState } from '../proxy/balancer-state.js';
import { Resolver } from '../proxy/resolve.js';
import { Telemetry } from '../proxy/telemetry.js';
import type { MeshState } from '../state/mesh-state.js';
import type { CertSource } from './certs.js';
import { dataPathAddresses, sharedListenerAt } from './sockets.js';

export interface DataPlaneOptions {
  cfg: Readonly<AgentConfig>;
  /** A read-only view: the updater that feeds it belongs to the main thread. */
  state: MeshState;
  certs: CertSource;
  originalDst: OriginalDstReader;
  fastPath: FastPath;
  metrics: AgentMetrics;
  balancer: BalancerState;
  log: Logger;
}

export interface DataPlane {
  /** Connections open now: accepted on 15001 and 15006, and tunnels on 15008. */
  open(): number;
  stats(): unknown;
  /**
   * Stops accepting (new connections go to the other listeners of the ports:
   * other workers, or the agent that replaces this one), sends GOAWAY on
   * HBONE sessions, lets open connections finish for up to `ms`, then closes
   * what is left. Resolves with how many had to be cut.
   */
  drain(ms: number): Promise<number>;
}

/**
 * The agent's data path, one per worker thread: the outbound (15001),
 * plaintext inbound (15006) and HBONE (15008) listeners, each on its own
 * SO_REUSEPORT socket so the kernel spreads connections over the workers,
 * with this worker's HBONE pool and load-balancing state.
 */
export async function startDataPlane(o: DataPlaneOptions): Promise<DataPlane> {
  const { cfg, state, certs, metrics } = o;
  const at = dataPathAddresses(cfg);
  const telemetry = new Telemetry(metrics, logger('node-agent', 'access'), () => state.generation);
  const nodeIp = (name: string) => state.nodeIp(name);
  const inbound = new Inbound({ state, nodeName: cfg.nodeName, telemetry, metrics, log: logger('node-agent', 'inbound'), preserveSourceIp: cfg.inboundCapture });
  const hbone: HboneServer = await startHboneServer({
    host: cfg.nodeIp,
    port: cfg.hbonePort,
    handle: sharedListenerAt(at.hbone),
    trustDomain: cfg.trustDomain,
    // A restarted agent may be asked before it has fetched a local workload's certificate:
    // the handshake waits for it rather than fail.
    tls: (servername) => {
      const id = sniToIdentity(servername);
      if (!id || !state.workloadsOn(cfg.nodeName).some((w) => w.meshed && w.identity === id)) return undefined;
      return certs.current(id) ?? certs.get(id);
    },
    ...inbound.hboneHooks(),
    log: logger('node-agent', 'hbone'),
  });
  const plaintext = await inbound.startPlaintextListener({ handle: sharedListenerAt(at.inbound) });
  const pool = new HbonePool({ trustDomain: cfg.trustDomain, localAddress: cfg.nodeIp, log: logger('node-agent', 'hbone') });
  const resolver = new Resolver(state, o.balancer);
  const outbound: Server = await startOutbound(
    { handle: sharedListenerAt(at.outbound) },
    {
      nodeName: cfg.nodeName,
      takeOriginalDst: (ip, port) => o.originalDst.take(ip, port),
      state,
      resolver,
      inbound,
      fastPath: o.fastPath,
      certs,
      pool,
      nodeIp,
      hbonePort: cfg.hbonePort,
      hboneRetryMs: cfg.hboneRetryMs,
      metrics,
      telemetry,
      log: logger('node-agent', 'proxy'),
    },
  );
  const accepted = new Set<Socket>();
  for (const server of [outbound, plaintext]) {
    server.on('connection', (sock: Socket) => {
      accepted.add(sock);
      sock.once('close', () => accepted.delete(sock));
    });
  }
  const open = () => accepted.size + hbone.stats().activeStreams;
  return {
    open,
    stats: () => ({ tunnels: { outbound: pool.stats(), inbound: hbone.stats() }, accepted: accepted.size }),
    drain: async (ms) => {
      // A closed listener refuses nothing: the other sockets sharing the port take new
      // connections, and the kernel moves the ones still queued here to them (tcp_migrate_req).
      outbound.close();
      plaintext.close();
      const deadline = Date.now() + ms;
      const hboneDone = hbone.close({ drainMs: ms });
      while (accepted.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const cut = open();
      for (const sock of accepted) sock.destroy();
      await Promise.all([hboneDone, pool.close({ drainMs: 0 })]);
      return cut;
    },
  };
}
