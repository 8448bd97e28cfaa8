import { CoreV1Api, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { startAdminServer } from '../lib/admin.js';
import { HbonePool, startHboneServer, type HboneServer } from '../lib/hbone/index.js';
import { kubeConfig } from '../lib/k8s/client.js';
import { startInformer, type Informer } from '../lib/k8s/informer.js';
import { TrustBundleFile } from '../lib/identity/index.js';
import { logger } from '../lib/log.js';
import { acceptsPlaintextSomewhere } from '../lib/policy/index.js';
import { sniToIdentity } from '../lib/mesh/sni.js';
import { warnInsecureControlPlane, type ControlPlaneSecurity } from '../lib/xds/index.js';
import { AgentMetrics } from './admin/metrics.js';
import { loadRedirector, type Redirector } from './bpf/loader.js';
import type { AgentConfig } from './config.js';
import { connectController } from './controller.js';
import { startFastPath } from './fastpath/index.js';
import { EnrollmentReconciler } from './enrollment/reconciler.js';
import { CertManager } from './identity/certs.js';
import { startInboundCapture, type InboundCapture } from './inbound/capture.js';
import { makeTransparent } from './inbound/transparent.js';
import { Inbound } from './proxy/inbound.js';
import { startOutbound } from './proxy/outbound.js';
import { Resolver } from './proxy/resolve.js';
import { Telemetry } from './proxy/telemetry.js';
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
  const telemetry = new Telemetry(metrics, logger('node-agent', 'access'));
  const redirector: Redirector = loadRedirector({
    objectDir: cfg.bpfObjectDir,
    pinDir: cfg.bpfPinDir,
    cgroupPath: cfg.podCgroupRoot,
    config: { agentIp: cfg.redirectIp, agentPort: cfg.outboundPort, dnsPort: cfg.dnsPort },
  });
  const fastPath = startFastPath({ enabled: cfg.fastPath, objectDir: cfg.bpfObjectDir, pinDir: cfg.bpfPinDir, log: logger('node-agent', 'fastpath') });

  // Kubernetes: which pods of this node are in the mesh (enrollment works
  // even while the controller is away), and where the nodes are.
  const kc = kubeConfig({ server: cfg.kubeServer, token: cfg.kubeToken });
  const core = kc.makeApiClient(CoreV1Api);
  const podSelector = `spec.nodeName=${cfg.nodeName}`;
  const informerLog = logger('node-agent', 'kube');
  let namespaces!: Informer<V1Namespace>;
  let pods!: Informer<V1Pod>;
  const reconciler = new EnrollmentReconciler(
    { pods: () => pods.list(), namespace: (name) => namespaces.get(name) },
    redirector,
    cfg.podCgroupRoot,
    logger('node-agent', 'enrollment'),
  );
  namespaces = startInformer<V1Namespace>({ kc, path: '/api/v1/namespaces', list: () => core.listNamespace(), onChange: () => reconciler.schedule(), log: informerLog });
  pods = startInformer<V1Pod>({
    kc,
    path: '/api/v1/pods',
    list: () => core.listPodForAllNamespaces({ fieldSelector: podSelector }),
    fieldSelector: podSelector,
    onChange: () => reconciler.schedule(),
    log: informerLog,
  });
  const nodes = startInformer<V1Node>({ kc, path: '/api/v1/nodes', list: () => core.listNode(), onChange: () => {}, log: informerLog });
  const nodeIp = (name: string) => nodes.get(name)?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

  // The controller: config stream and CA, over TLS verified against the bundle.
  const token = cfg.controllerTokenFile ? () => readFileSync(cfg.controllerTokenFile!, 'utf8').trim() : cfg.controllerToken;
  const security: ControlPlaneSecurity = cfg.insecureControlPlane
    ? { kind: 'insecure' }
    : { kind: 'tls', trust, serverName: cfg.controllerServerName, identity: cfg.controllerIdentity };
  const stopInsecureWarnings = cfg.insecureControlPlane ? warnInsecureControlPlane(log, `the node agent of ${cfg.nodeName}`) : undefined;
  const state = new MeshState();
  const controller = connectController({
    address: cfg.controllerAddress,
    security,
    token,
    nodeName: cfg.nodeName,
    onUpdate: (type, upserts, removals) => state.apply(type, upserts as never, removals),
    log: logger('node-agent', 'xds'),
  });
  const xds = controller.xds;
  void xds.synced.then(() => state.markComplete());
  const certs = new CertManager({ ca: controller.ca, trust, log: logger('node-agent', 'identity') });

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
    fastPath,
    certs,
    pool,
    nodeIp,
    hbonePort: cfg.hbonePort,
    metrics,
    telemetry,
    log: logger('node-agent', 'proxy'),
  });

  let synced = false;
  void Promise.all([namespaces.synced, pods.synced, nodes.synced]).then(() => {
    synced = true;
    reconciler.reconcile();
    log.info({ node: cfg.nodeName }, 'synced with the API server');
  });
  const admin = await startAdminServer({
    title: `Ambit node agent (${cfg.nodeName})`,
    host: cfg.adminHost,
    port: cfg.adminPort,
    registry: metrics.registry,
    // Ready once it knows its pods and has a config from the controller; it
    // stays ready on the last good config if the controller goes away.
    notReady: () => (!synced ? 'informers have not synced with the API server' : xds.status().versions.Workload === '' ? 'no config from the controller yet' : undefined),
    json: {
      '/config_dump': () => ({
        node: cfg.nodeName,
        redirect: { ip: cfg.redirectIp, port: cfg.outboundPort, cgroupRoot: cfg.podCgroupRoot, pinDir: cfg.bpfPinDir },
        enrolled: reconciler.enrolled(),
        bpfStats: redirector.stats(),
        fastPath: fastPath.status(),
        controller: { ...xds.status(), channel: controller.describe },
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
      trust.close();
      stopInsecureWarnings?.();
      await Promise.all([namespaces.stop(), pods.stop(), nodes.stop()]);
      await Promise.all([closeServer(outbound), closeServer(admin), closeServer(plaintext), hbone.close({ drainMs: 1000 }), pool.close({ drainMs: 1000 })]);
      await capture?.close({ remove: cfg.detachOnExit });
      fastPath.close();
      redirector.close({ detach: cfg.detachOnExit });
      log.info({ detached: cfg.detachOnExit }, 'node agent stopped');
    },
  };
}

function closeServer(s: { close(cb: () => void): void }): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}
