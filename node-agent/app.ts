import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startAdminServer } from '../lib/admin.js';
import { TrustBundleFile } from '../lib/identity/index.js';
import { logger } from '../lib/log.js';
import { acceptsPlaintextSomewhere } from '../lib/policy/index.js';
import { warnInsecureControlPlane, type MeshConfigConnection } from '../lib/xds/index.js';
import { linkSecurity, linkToken } from '../lib/xds/link-config.js';
import { loadRedirector, type Redirector } from './bpf/loader.js';
import type { AgentConfig } from './config.js';
import { connectCa, connectController, type CaLink } from './controller.js';
import { WorkerPool } from './dataplane/pool.js';
import type { WorkerData } from './dataplane/protocol.js';
import { dataPathAddresses, holdingListeners, sharedListener } from './dataplane/sockets.js';
import { combineStatus, startFastPath, type FastPathStatus } from './fastpath/index.js';
import { keepReadyFile } from './admin/ready-file.js';
import { EnrollmentReconciler } from './enrollment/reconciler.js';
import { awaitSuccessor, enableListenerMigration, listenersOn } from './handover.js';
import { raiseFileLimit } from './libc.js';
import { CertManager } from './identity/certs.js';
import { startInboundCapture, type InboundCapture } from './inbound/capture.js';
import { startFileSource } from './state/file-source.js';
import { MeshState } from './state/mesh-state.js';

export interface RunningAgent {
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./dataplane/worker.js', import.meta.url));

/** How long a starting agent holds connections for its workers (see `holdingListeners`). */
const HOLD_PORTS_MS = 15_000;

/**
 * The agent's main thread: the control side. It owns the mesh state (one
 * updater, fed by the controller's stream or a local file), the workload
 * certificates, the kernel state (eBPF enrollment, the capture table) and the
 * admin port, and runs the data path on `cfg.workers` worker threads that
 * share the listening ports (dataplane/). Each subsystem owns its own state.
 */
export async function startAgent(cfg: Readonly<AgentConfig>): Promise<RunningAgent> {
  const log = logger('node-agent');
  // After a crash nothing listens on the data-path ports until the workers have a complete
  // config: hold them meanwhile, so new connections wait rather than be refused. Not beside a
  // running agent (a rolling update): that one serves them without the wait.
  const dataPorts = Object.values(dataPathAddresses(cfg));
  const held = dataPorts.every((p) => listenersOn(p.port).size === 0) ? holdingListeners(dataPorts) : undefined;
  // The mesh roots, read out of band: without them the agent can trust neither the
  // controller nor its peers, so it does not start.
  const opened = await TrustBundleFile.open({ path: cfg.rootCaFile, trustDomain: cfg.trustDomain, log: logger('node-agent', 'trust') });
  if (!opened.ok) throw opened.error;
  const trust = opened.value;
  const redirector: Redirector = loadRedirector({
    objectDir: cfg.bpfObjectDir,
    pinDir: cfg.bpfPinDir,
    cgroupPath: cfg.podCgroupRoot,
    config: { agentIp: cfg.redirectIp, agentPort: cfg.outboundPort, dnsPort: cfg.dnsPort },
  });
  enableListenerMigration(log);
  const fileLimit = raiseFileLimit();
  // The same-node fast path: the main thread attaches its program and sweeps what a dead agent
  // left; each worker joins its own connections through the pinned maps.
  const fastPath = startFastPath({ enabled: cfg.fastPath, objectDir: cfg.bpfObjectDir, pinDir: cfg.bpfPinDir, log: logger('node-agent', 'fastpath') });

  // The controller: config stream and CA, over TLS verified against the bundle.
  const token = linkToken(cfg);
  const security = linkSecurity(cfg, trust);
  const stopInsecureWarnings = cfg.insecureControlPlane ? warnInsecureControlPlane(log, `the node agent of ${cfg.nodeName}`) : undefined;

  // The one owner of the agent's view of the mesh, fed by one updater
  // (`state.apply`) from the controller's stream or from a local file.
  const state = new MeshState();
  const link = { address: cfg.controllerAddress, security, token };
  const controller: CaLink & { xds?: MeshConfigConnection } = cfg.localConfigFile
    ? connectCa(link)
    : connectController({ ...link, nodeName: cfg.nodeName, onUpdate: (type, upserts, removals) => state.apply(type, upserts as never, removals), log: logger('node-agent', 'xds') });
  const file = cfg.localConfigFile ? startFileSource(cfg.localConfigFile, state, logger('node-agent', 'file')) : undefined;
  void controller.xds?.synced.then(() => state.markComplete());
  const certs = new CertManager({ ca: controller.ca, trust, log: logger('node-agent', 'identity') });

  // Enrollment: the meshed pods of this node, as the push says, once it is complete.
  const reconciler = new EnrollmentReconciler(
    () => (state.complete ? state.workloadsOn(cfg.nodeName).filter((w) => w.meshed) : undefined),
    redirector,
    cfg.podCgroupRoot,
    logger('node-agent', 'enrollment'),
  );

  // The data path: workers start listening once the config is complete, beside
  // any agent still running (SO_REUSEPORT), so a successor never finds the ports closed.
  const fastPathOn = fastPath.status().path === 'kernel';
  const pool = new WorkerPool({
    entry: WORKER_ENTRY,
    data: (index, balancer): WorkerData => ({ cfg, index, balancer, fastPath: fastPathOn }),
    count: cfg.workers,
    state,
    certs,
    log: logger('node-agent', 'workers'),
    youngGenerationMb: cfg.workerYoungGenerationMb,
  });
  pool.start();
  if (held) {
    // Bounded: with no config in sight, queued connections are reset rather than left hanging.
    const giveUp = setTimeout(() => {
      log.warn({ afterMs: HOLD_PORTS_MS }, 'no complete config yet: no longer holding connections for the data path');
      held.close();
    }, HOLD_PORTS_MS);
    void pool.allListening.then(() => {
      clearTimeout(giveUp);
      held.close();
    });
  }

  const capture: InboundCapture | undefined = cfg.inboundCapture ? await startInboundCapture({ port: cfg.inboundPort, log: logger('node-agent', 'capture') }) : undefined;
  // Local meshed pods: keep their certificates ready and, once the config is
  // complete, their inbound capture current (until then the kernel keeps what
  // the last agent left). The capture is per pod: one STRICT on every port is
  // refused by the kernel; one with any PERMISSIVE port has its plaintext
  // handed to 15006, where Inbound.admit refuses it on the STRICT ports.
  const syncLocal = () => {
    const local = state.workloadsOn(cfg.nodeName).filter((w) => w.meshed && w.ip);
    certs.retain(local.map((w) => w.identity));
    reconciler.schedule();
    if (!state.complete) return;
    const pods = local.map((w) => ({ ip: w.ip, mode: acceptsPlaintextSomewhere(state.mtlsFor(w)) ? ('PERMISSIVE' as const) : ('STRICT' as const) }));
    capture?.update(pods).catch((err: unknown) => log.error({ err: String(err) }, 'inbound capture update failed'));
  };
  state.onChange(syncLocal);
  syncLocal(); // what arrived before this point

  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics, prefix: 'ambit_agent_' });
  // Ready once every worker serves a complete config; it stays ready on the
  // last good config if the controller goes away.
  const notReady = (): string | undefined =>
    !state.complete ? `no complete config from ${cfg.localConfigFile ?? 'the controller'} yet` : !pool.listening ? 'the data-path workers are not all listening yet' : undefined;
  const admin = await startAdminServer({
    title: `Ambit node agent (${cfg.nodeName})`,
    listenOn: { handle: sharedListener(cfg.adminHost, cfg.adminPort) },
    registry: async () => Registry.merge([processMetrics, await pool.metrics()]),
    notReady,
    json: {
      '/config_dump': async () => {
        const dataPath = await pool.stats();
        return {
          node: cfg.nodeName,
          pid: process.pid,
          memoryMiB: Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)])),
          redirect: { ip: cfg.redirectIp, port: cfg.outboundPort, cgroupRoot: cfg.podCgroupRoot, cgroupRootSource: cfg.podCgroupSource, pinDir: cfg.bpfPinDir },
          enrolled: reconciler.enrolled(),
          bpfStats: redirector.stats(),
          fastPath: combineStatus(fastPath.status(), dataPath.workers.map((w) => (w as { fastPath: FastPathStatus }).fastPath)),
          controller: { ...(controller.xds?.status() ?? { localConfigFile: cfg.localConfigFile }), channel: controller.describe },
          trustBundle: trust.summary(),
          certificates: certs.summary(),
          dataPath,
          model: state.dump(),
        };
      },
    },
    log,
  });
  // For the kubelet's exec probe: the admin port's /ready may be answered by another agent of the node.
  const readyFile = cfg.readyFile ? keepReadyFile(cfg.readyFile, notReady, log) : undefined;
  log.info(
    { node: cfg.nodeName, podCgroupRoot: cfg.podCgroupRoot, podCgroupSource: cfg.podCgroupSource, workers: cfg.workers, fileLimit, outbound: `${cfg.redirectIp}:${cfg.outboundPort}`, hbone: `${cfg.nodeIp}:${cfg.hbonePort}`, controller: cfg.controllerAddress, channel: controller.describe },
    'node agent started',
  );

  return {
    stop: async () => {
      readyFile?.close();
      // A rolling update starts the successor first; the ports are only let go once it listens
      // (bounded: on an uninstall there is none), then open connections drain.
      const successor = await awaitSuccessor(cfg.outboundPort, cfg.handoverWaitMs);
      log.info({ successor, drainMs: cfg.drainMs }, successor ? 'a successor listens: handing over' : 'no successor appeared: stopping');
      reconciler.stop();
      await pool.drain(cfg.drainMs);
      certs.close();
      await controller.stop();
      file?.stop();
      trust.close();
      stopInsecureWarnings?.();
      admin.close();
      admin.closeAllConnections();
      await capture?.close({ remove: cfg.detachOnExit });
      fastPath.close();
      redirector.close({ detach: cfg.detachOnExit });
      log.info({ detached: cfg.detachOnExit }, 'node agent stopped');
    },
  };
}
