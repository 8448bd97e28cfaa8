import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { startAdminServer } from '../lib/admin.js';
import { HbonePool, startHboneServer, type HboneServer } from '../lib/hbone/index.js';
import { TrustBundleFile } from '../lib/identity/index.js';
import { logger } from '../lib/log.js';
import { acceptsPlaintextSomewhere } from '../lib/policy/index.js';
import { sniToIdentity } from '../lib/mesh/sni.js';
import { warnInsecureControlPlane, type ControlPlaneSecurity, type MeshConfigConnection } from '../lib/xds/index.js';
import { AgentMetrics } from './admin/metrics.js';
import { loadRedirector, type Redirector } from './bpf/loader.js';
import type { AgentConfig } from './config.js';
import { connectCa, connectController, type CaLink } from './controller.js';
import { EnrollmentReconciler } from './enrollment/reconciler.js';
import { CertManager } from './identity/certs.js';
import { startInboundCapture, type InboundCapture } from './inbound/capture.js';
import { makeTransparent } from './inbound/transparent.js';
import { Inbound } from './proxy/inbound.js';
import { startOutbound } from './proxy/outbound.js';
import { Resolver } from './proxy/resolve.js';
import { Telemetry } from './proxy/telemetry.js';
import { startFileSource } from './state/file-source.js';
import { MeshState } from './state/mesh-state.js';

export interface RunningAgent {
  stop(): Promise<void>;
}

/** Wires the agent's subsystems together; each owns its own state. */
export async function startAgent(cfg: Readonly<AgentConfig>): Promise<RunningAgent> {
  const log = logger('node-agent');
  // The mesh roots, read out of band: without them the agent can trust neither the
  // controller nor its peers, so it does not start.
  const opened = await TrustBundleFile.open({ path: cfg.rootCaFile, trustDomain: cfg.trustDomain, log: logger('node-agent', 'trust') });
  if (!opened.ok) throw opened.error;
  const trust = opened.value;
  const metrics = new AgentMetrics();
  const telemetry = new Telemetry(metrics, logger('node-agent', 'access'), () => state.generation);
  const redirector: Redirector = loadRedirector({
    objectDir: cfg.bpfObjectDir,
    pinDir: cfg.bpfPinDir,
    cgroupPath: cfg.podCgroupRoot,
    config: { agentIp: cfg.redirectIp, agentPort: cfg.outboundPort, dnsPort: cfg.dnsPort },
  });

  // The controller: config stream and CA, over TLS verified against the bundle.
  const token = cfg.controllerTokenFile ? () => readFileSync(cfg.controllerTokenFile!, 'utf8').trim() : cfg.controllerToken;
  const security: ControlPlaneSecurity = cfg.insecureControlPlane
    ? { kind: 'insecure' }
    : { kind: 'tls', trust, serverName: cfg.controllerServerName, identity: cfg.controllerIdentity };
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
  const nodeIp = (name: string) => state.nodeIp(name);

  // Enrollment: the meshed pods of this node, as the push says, once it is complete.
  const reconciler = new EnrollmentReconciler(
    () => (state.complete ? state.workloadsOn(cfg.nodeName).filter((w) => w.meshed) : undefined),
    redirector,
    cfg.podCgroupRoot,
    logger('node-agent', 'enrollment'),
  );
  state.onChange(() => reconciler.schedule());

  // Inbound: HBONE on 15008 presents the destination workload's certificate,
  // chosen by SNI; plaintext comes through 15006 where PERMISSIVE allows.
  const inbound = new Inbound({
    state,
    nodeName: cfg.nodeName,
    telemetry,
    metrics,
    log: logger('node-agent', 'inbound'),
    nodeIp,
    preserveSourceIp: cfg.inboundCapture,
  });
  const hbone: HboneServer = await startHboneServer({
    host: cfg.nodeIp,
    port: cfg.hbonePort,
    trustDomain: cfg.trustDomain,
    tls: (servername) => {
      const id = sniToIdentity(servername);
      return id ? certs.current(id) : undefined;
    },
    ...inbound.hboneHooks(),
    log: logger('node-agent', 'hbone'),
  });
  const plaintext = await inbound.startPlaintextListener(cfg.inboundPort);
  let capture: InboundCapture | undefined;
  if (cfg.inboundCapture) {
    makeTransparent(plaintext);
    capture = await startInboundCapture({ port: cfg.inboundPort, log: logger('node-agent', 'capture') });
  }
  // Local meshed pods: keep their certificates ready and, once the config is
  // complete, their inbound capture current (until then the kernel keeps what
  // the last agent left). The capture is per pod: one STRICT on every port is
  // refused by the kernel; one with any PERMISSIVE port has its plaintext
  // handed to 15006, where Inbound.admit refuses it on the STRICT ports.
  const syncLocal = () => {
    const local = state.workloadsOn(cfg.nodeName).filter((w) => w.meshed && w.ip);
    certs.retain(local.map((w) => w.identity));
    if (!state.complete) return;
    const pods = local.map((w) => ({ ip: w.ip, mode: acceptsPlaintextSomewhere(state.mtlsFor(w)) ? ('PERMISSIVE' as const) : ('STRICT' as const) }));
    capture?.update(pods).catch((err: unknown) => log.error({ err: String(err) }, 'inbound capture update failed'));
  };
  state.onChange(syncLocal);
  syncLocal(); // what arrived before this point

  const pool = new HbonePool({ trustDomain: cfg.trustDomain, log: logger('node-agent', 'hbone') });
  const outbound: Server = await startOutbound(cfg.redirectIp, cfg.outboundPort, {
    nodeName: cfg.nodeName,
    takeOriginalDst: (ip, port) => redirector.takeOriginalDst(ip, port),
    state,
    resolver: new Resolver(state),
    inbound,
    certs,
    pool,
    nodeIp,
    hbonePort: cfg.hbonePort,
    metrics,
    telemetry,
    log: logger('node-agent', 'proxy'),
  });

  reconciler.reconcile(); // a config that arrived before this point
  const admin = await startAdminServer({
    title: `Ambit node agent (${cfg.nodeName})`,
    host: cfg.adminHost,
    port: cfg.adminPort,
    registry: metrics.registry,
    // Ready once it has a complete config; it stays ready on the last good
    // config if the controller goes away.
    notReady: () => (state.complete ? undefined : `no complete config from ${cfg.localConfigFile ?? 'the controller'} yet`),
    json: {
      '/config_dump': () => ({
        node: cfg.nodeName,
        redirect: { ip: cfg.redirectIp, port: cfg.outboundPort, cgroupRoot: cfg.podCgroupRoot, pinDir: cfg.bpfPinDir },
        enrolled: reconciler.enrolled(),
        bpfStats: redirector.stats(),
        controller: { ...(controller.xds?.status() ?? { localConfigFile: cfg.localConfigFile }), channel: controller.describe },
        trustBundle: trust.summary(),
        certificates: certs.summary(),
        tunnels: { outbound: pool.stats(), inbound: hbone.stats() },
        model: state.dump(),
      }),
    },
    log,
  });
  log.info(
    { node: cfg.nodeName, outbound: `${cfg.redirectIp}:${cfg.outboundPort}`, hbone: `${cfg.nodeIp}:${cfg.hbonePort}`, controller: cfg.controllerAddress, channel: controller.describe },
    'node agent started',
  );

  return {
    stop: async () => {
      reconciler.stop();
      certs.close();
      await controller.stop();
      file?.stop();
      trust.close();
      stopInsecureWarnings?.();
      await Promise.all([closeServer(outbound), closeServer(admin), closeServer(plaintext), hbone.close({ drainMs: 1000 }), pool.close({ drainMs: 1000 })]);
      await capture?.close({ remove: cfg.detachOnExit });
      redirector.close({ detach: cfg.detachOnExit });
      log.info({ detached: cfg.detachOnExit }, 'node agent stopped');
    },
  };
}

function closeServer(s: { close(cb: () => void): void }): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}
