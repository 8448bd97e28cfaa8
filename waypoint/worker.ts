/**
 * A waypoint's worker thread (the node agent's pool on the other side,
 * node-agent/dataplane/pool.ts): a read-only replica of the proxy's mesh
 * state, fed by the updates the main thread applied; its own HBONE listener
 * on the shared port (SO_REUSEPORT: the kernel spreads the agents' tunnels
 * over the workers), its own upstream pool and HTTP proxies. It listens only
 * once the config is complete.
 */
import { workerData } from 'node:worker_threads';
import { HbonePool, startHboneServer, type HboneServer } from '../lib/hbone/index.js';
import { logger } from '../lib/log.js';
import { AgentMetrics } from '../node-agent/admin/metrics.js';
import { CertCache } from '../node-agent/dataplane/certs.js';
import { runWorkerLoop, toMain } from '../node-agent/dataplane/worker-loop.js';
import { sharedListener } from '../node-agent/dataplane/sockets.js';
import { sharedBalancerState } from '../node-agent/proxy/balancer-state.js';
import { Telemetry } from '../node-agent/proxy/telemetry.js';
import { MeshState } from '../node-agent/state/mesh-state.js';
import type { WaypointConfig } from './config.js';
import { RequestMetrics } from './metrics.js';
import { WaypointProxy } from './proxy.js';
import { createTracing } from './tracing.js';

/** What the main thread hands each worker. */
export interface WaypointWorkerData {
  cfg: Readonly<WaypointConfig>;
  index: number;
  balancer: SharedArrayBuffer;
}

const { cfg, index, balancer } = workerData as WaypointWorkerData;
const log = logger('waypoint', `worker-${index}`);

const state = new MeshState();
const certs = new CertCache((identity) => toMain({ kind: 'need-cert', identity }));
const metrics = new AgentMetrics();
const accessLog = logger('waypoint', 'access');
const tracing = await createTracing(cfg.tracing, cfg, { log: logger('waypoint', 'tracing') });
const pool = new HbonePool({ trustDomain: cfg.trustDomain, log: logger('waypoint', 'hbone') });
const proxy = new WaypointProxy({
  state,
  waypoint: { namespace: cfg.namespace, name: cfg.name },
  identity: cfg.identity,
  certificate: () => certs.get(cfg.identity),
  pool,
  hbonePort: cfg.hbonePort,
  telemetry: new Telemetry(metrics, accessLog, () => state.generation),
  requests: new RequestMetrics(metrics.registry),
  accessLog,
  tracing,
  balancer: sharedBalancerState(balancer),
  log: logger('waypoint', 'proxy'),
});

runWorkerLoop<HboneServer>({
  state,
  certs,
  serve: () =>
    startHboneServer({
      host: cfg.podIp,
      port: cfg.hbonePort,
      handle: sharedListener(cfg.podIp, cfg.hbonePort),
      trustDomain: cfg.trustDomain,
      // Whatever name a client asks for, a waypoint proves only its own identity.
      tls: () => certs.current(cfg.identity) ?? certs.get(cfg.identity),
      ...proxy.hooks(),
      log: logger('waypoint', 'hbone'),
    }),
  drain: async (server, ms) => {
    await server?.close({ drainMs: ms });
    await pool.close({ drainMs: 0 });
    await tracing.shutdown();
    return server?.stats().activeStreams ?? 0;
  },
  registry: metrics.registry,
  index,
  stats: (server) => ({ tunnels: { inbound: server?.stats(), outbound: pool.stats() } }),
  what: 'HBONE listener',
  log,
});
