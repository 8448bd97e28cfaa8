import { CoreV1Api, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import type { Server } from 'node:net';
import { kubeConfig } from '../lib/k8s/client.js';
import { startInformer, type Informer } from '../lib/k8s/informer.js';
import { logger } from '../lib/log.js';
import { workloadName } from '../lib/mesh/workload.js';
import { startAdmin } from './admin/server.js';
import { AgentMetrics } from './admin/metrics.js';
import { loadRedirector, type Redirector } from './bpf/loader.js';
import type { AgentConfig } from './config.js';
import { EnrollmentReconciler } from './enrollment/reconciler.js';
import { startOutbound } from './proxy/outbound.js';

export interface RunningAgent {
  stop(): Promise<void>;
}

/** Wires the agent's subsystems together; each owns its own state. */
export async function startAgent(cfg: Readonly<AgentConfig>): Promise<RunningAgent> {
  const log = logger('node-agent');
  const metrics = new AgentMetrics();
  const redirector: Redirector = loadRedirector({
    objectDir: cfg.bpfObjectDir,
    pinDir: cfg.bpfPinDir,
    cgroupPath: cfg.podCgroupRoot,
    config: { agentIp: cfg.redirectIp, agentPort: cfg.outboundPort, dnsPort: cfg.dnsPort },
  });

  const kc = kubeConfig({ server: cfg.kubeServer, token: cfg.kubeToken });
  const core = kc.makeApiClient(CoreV1Api);
  const podSelector = `spec.nodeName=${cfg.nodeName}`;
  let namespaces!: Informer<V1Namespace>;
  let pods!: Informer<V1Pod>;
  const reconciler = new EnrollmentReconciler(
    {
      pods: () => pods.list(),
      namespace: (name) => namespaces.get(name),
    },
    redirector,
    cfg.podCgroupRoot,
    logger('node-agent', 'enrollment'),
  );
  const informerLog = logger('node-agent', 'kube');
  namespaces = startInformer<V1Namespace>({
    kc,
    path: '/api/v1/namespaces',
    list: () => core.listNamespace(),
    onChange: () => reconciler.schedule(),
    log: informerLog,
  });
  pods = startInformer<V1Pod>({
    kc,
    path: '/api/v1/pods',
    list: () => core.listPodForAllNamespaces({ fieldSelector: podSelector }),
    fieldSelector: podSelector,
    onChange: () => reconciler.schedule(),
    log: informerLog,
  });

  const outbound: Server = await startOutbound(cfg.redirectIp, cfg.outboundPort, {
    takeOriginalDst: (ip, port) => redirector.takeOriginalDst(ip, port),
    sourceOf: (ip) => {
      const p = reconciler.byIp(ip);
      const pod = p && pods.get(p.name, p.namespace);
      return p && pod ? { namespace: p.namespace, pod: p.name, workload: workloadName(pod) } : undefined;
    },
    metrics,
    log: logger('node-agent', 'proxy'),
    accessLog: logger('node-agent', 'access'),
  });

  let synced = false;
  void Promise.all([namespaces.synced, pods.synced]).then(() => {
    synced = true;
    reconciler.reconcile();
    log.info({ node: cfg.nodeName }, 'synced with the API server');
  });
  const admin = await startAdmin(cfg.adminHost, cfg.adminPort, {
    metrics,
    ready: () => synced,
    configDump: () => ({
      node: cfg.nodeName,
      redirect: { ip: cfg.redirectIp, port: cfg.outboundPort, cgroupRoot: cfg.podCgroupRoot, pinDir: cfg.bpfPinDir },
      enrolled: reconciler.enrolled(),
      bpfStats: redirector.stats(),
    }),
    log,
  });
  log.info({ node: cfg.nodeName, outbound: `${cfg.redirectIp}:${cfg.outboundPort}`, admin: `${cfg.adminHost}:${cfg.adminPort}` }, 'node agent started');

  return {
    stop: async () => {
      reconciler.stop();
      await Promise.all([namespaces.stop(), pods.stop()]);
      await Promise.all([closeServer(outbound), closeServer(admin)]);
      redirector.close({ detach: cfg.detachOnExit });
      log.info({ detached: cfg.detachOnExit }, 'node agent stopped');
    },
  };
}

function closeServer(s: { close(cb: () => void): void }): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}
