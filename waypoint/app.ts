import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startAdminServer } from '../lib/admin.js';
import { TrustBundleFile } from '../lib/identity/index.js';
import { logger } from '../lib/log.js';
import { warnInsecureControlPlane } from '../lib/xds/index.js';
import { linkSecurity, linkToken } from '../lib/xds/link-config.js';
import { connectController } from '../node-agent/controller.js';
import { CertManager } from '../node-agent/identity/certs.js';
import { MeshState } from '../node-agent/state/mesh-state.js';
import type { WaypointConfig } from './config.js';
import { WorkerPool } from '../node-agent/dataplane/pool.js';
import type { WaypointWorkerData } from './worker.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface RunningWaypoint {
  stop(): Promise<void>;
}

/**
 * On SIGTERM a proxy keeps accepting this long, while the node agents learn that its pod left
 * the waypoint's endpoints (an EndpointSlice change and a push), then stops taking new tunnels.
 */
const ANNOUNCE_MS = 3_000;
/** Then how long open tunnels may take to finish before they are closed. */
const DRAIN_MS = 20_000;

/**
 * A waypoint proxy's main thread: its config (its own view of the mesh) and
 * its one certificate from the controller, over the channel verified against
 * the out-of-band roots, and the admin port (15020). HBONE on the pod's 15008
 * is served by `cfg.workers` worker threads (worker.ts). Each subsystem owns
 * its own state, as in the node agent, whose pieces it reuses.
 */
export async function startWaypoint(cfg: Readonly<WaypointConfig>): Promise<RunningWaypoint> {
  const waypoint = { namespace: cfg.namespace, name: cfg.name };
  const log = logger('waypoint');
  const opened = await TrustBundleFile.open({ path: cfg.rootCaFile, trustDomain: cfg.trustDomain, log: logger('waypoint', 'trust') });
  if (!opened.ok) throw opened.error;
  const trust = opened.value;
  const stopInsecureWarnings = cfg.insecureControlPlane ? warnInsecureControlPlane(log, `waypoint ${cfg.namespace}/${cfg.name}`) : undefined;

  const state = new MeshState();
  const controller = connectController({
    address: cfg.controllerAddress,
    security: linkSecurity(cfg, trust),
    token: linkToken(cfg),
    nodeName: cfg.nodeName,
    onUpdate: (type, upserts, removals) => state.apply(type, upserts as never, removals),
    log: logger('waypoint', 'xds'),
  });
  void controller.xds.synced.then(() => state.markComplete());
  const certs = new CertManager({ ca: controller.ca, trust, log: logger('waypoint', 'identity') });
  certs.retain([cfg.identity]);
  certs.get(cfg.identity).catch((err: unknown) => log.warn({ err: String(err) }, 'no certificate yet; retrying'));

  // The data path: workers sharing the HBONE port (SO_REUSEPORT), each with a replica of the
  // state; the kernel spreads the agents' tunnels over them.
  const workers = new WorkerPool({
    entry: WORKER_ENTRY,
    data: (index, balancer): WaypointWorkerData => ({ cfg, index, balancer }),
    count: cfg.workers,
    state,
    certs,
    log: logger('waypoint', 'workers'),
  });
  workers.start();

  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics, prefix: 'ambit_waypoint_' });
  const admin = await startAdminServer({
    title: `Ambit waypoint (${cfg.namespace}/${cfg.name}, pod ${cfg.podName})`,
    listenOn: { host: cfg.podIp, port: cfg.adminPort },
    registry: async () => Registry.merge([processMetrics, await workers.metrics()]),
    notReady: () =>
      !state.complete
        ? 'no complete config from the controller yet'
        : !certs.current(cfg.identity)
          ? `no certificate for ${cfg.identity} yet`
          : !workers.listening
            ? 'the HBONE workers are not all listening yet'
            : undefined,
    json: {
      '/config_dump': async () => ({
        waypoint,
        pod: cfg.podName,
        node: cfg.nodeName,
        identity: cfg.identity,
        pid: process.pid,
        memoryMiB: Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)])),
        controller: { ...controller.xds.status(), channel: controller.describe },
        trustBundle: trust.summary(),
        certificates: certs.summary(),
        services: state
          .all('Service')
          .filter((s) => s.waypoint?.namespace === cfg.namespace && s.waypoint.name === cfg.name)
          .map((s) => `${s.namespace}/${s.name}`),
        dataPath: await workers.stats(),
        // What the proxy holds, as the node agent's dump shows it: `ambit config-dump` and
        // `ambit policy explain` read routes and policies from here, not from the controller.
        model: state.dump(),
      }),
    },
    log,
  });
  log.info({ waypoint: `${cfg.namespace}/${cfg.name}`, pod: cfg.podName, node: cfg.nodeName, identity: cfg.identity, workers: cfg.workers, hbone: `${cfg.podIp}:${cfg.hbonePort}`, controller: cfg.controllerAddress, channel: controller.describe }, 'waypoint started');

  return {
    stop: async () => {
      log.info({ announceMs: ANNOUNCE_MS, drainMs: DRAIN_MS }, 'stopping: still accepting while agents learn this proxy is leaving');
      await new Promise((r) => setTimeout(r, ANNOUNCE_MS));
      await workers.drain(DRAIN_MS);
      certs.close();
      await controller.stop();
      trust.close();
      stopInsecureWarnings?.();
      admin.close();
      admin.closeAllConnections();
      log.info('waypoint stopped');
    },
  };
}
