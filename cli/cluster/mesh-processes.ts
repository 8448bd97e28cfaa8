import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LabStatus } from '../../lab/supervisor/lab.js';
import { apiStatus, CHART, condition, describeError } from './kube.js';

/**
 * Where the mesh's own processes are and how to reach their admin ports.
 * Everything else `ambit check` asks the Kubernetes API, the same way for
 * the lab and a cluster; only this differs: in a cluster the processes are
 * pods of the chart's Deployment and DaemonSet, reached through the API
 * server's pod proxy; in the lab (which does not boot from the chart) they
 * are the processes `ambit lab status` lists, reached directly from the
 * lab's network namespace.
 */
export interface MeshProcesses {
  readonly kind: 'chart' | 'lab';
  /** Every controller replica's admin port (15014). */
  controllers(): Promise<AdminEndpoint[]>;
  /** Every node agent, with the node it serves. */
  agents(): Promise<AgentProcess[]>;
  /** Every waypoint proxy (each replica of each Waypoint); which Waypoint it serves, its /config_dump says. */
  waypoints(): Promise<ProxyProcess[]>;
  /** How an operator reads an admin path by hand, for hints when this cannot. */
  byHand(path: string): string;
}

export interface AdminEndpoint {
  /** Pod or process name, for messages. */
  name: string;
  /** GET an admin path; a non-2xx answer is a value, an unreachable port throws. */
  get(path: string): Promise<{ status: number; body: string }>;
}

export interface AgentProcess {
  name: string;
  node: string | undefined;
  ready: boolean;
  /** Why it is not ready, when known. */
  detail?: string;
  /** Its admin port (15020): `/config_dump`. */
  admin: AdminEndpoint;
}

/** A proxy whose admin port (15020) can be read. */
export interface ProxyProcess {
  name: string;
  node: string | undefined;
  admin: AdminEndpoint;
}

/**
 * The chart's pods. Each controller replica is asked on its own through
 * `pods/proxy` (GET /api/v1/namespaces/NS/pods/NAME:15014/proxy?path=...):
 * an agent streams from one replica only, so asking the Service would see a
 * random half of them. It needs nothing but the caller's RBAC (`get
 * pods/proxy`), no port-forward and no route to the pod network.
 */
export function chartProcesses(kc: KubeConfig, namespace: string): MeshProcesses {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = async (component: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `${CHART.nameLabel}=${component}` })).items;
  const proxied = (pod: V1Pod, port: number): AdminEndpoint => {
    const name = pod.metadata?.name ?? '';
    const ns = pod.metadata?.namespace ?? namespace;
    return {
      name,
      get: async (path: string) => {
        try {
          const body: unknown = await core.connectGetNamespacedPodProxy({ name: `${name}:${port}`, namespace: ns, path });
          return { status: 200, body: typeof body === 'string' ? body : JSON.stringify(body) };
        } catch (err) {
          const code = apiStatus(err);
          if (code === undefined) throw err;
          return { status: code, body: describeError(err) };
        }
      },
    };
  };
  return {
    kind: 'chart',
    controllers: async () =>
      (await pods(CHART.controller)).filter((p) => p.status?.phase === 'Running').map((p) => proxied(p, CHART.adminPort)),
    agents: async () =>
      (await pods(CHART.nodeAgent)).map((p) => {
        const ready = condition(p, 'Ready');
        return {
          name: p.metadata?.name ?? '',
          node: p.spec?.nodeName,
          ready: ready?.status === 'True',
          ...(ready?.status === 'True' ? {} : { detail: ready?.message ?? p.status?.phase ?? 'not ready' }),
          admin: proxied(p, CHART.proxyAdminPort),
        };
      }),
    // The controller labels each Waypoint's pods with its name, in the Waypoint's namespace.
    waypoints: async () =>
      (await core.listPodForAllNamespaces({ labelSelector: CHART.waypointLabel })).items
        .filter((p) => p.status?.phase === 'Running')
        .map((p) => ({ name: `${p.metadata?.namespace}/${p.metadata?.name}`, node: p.spec?.nodeName, admin: proxied(p, CHART.proxyAdminPort) })),
    byHand: (path) => `kubectl -n ${namespace} port-forward deploy/${CHART.controller} ${CHART.adminPort} & curl -s localhost:${CHART.adminPort}${path}`,
  };
}

/** The lab's processes, from its supervisor; their admin addresses are reachable from the lab's fabric namespace, where the check runs. */
export function labProcesses(lab: string, fabricNetns: string, status: () => Promise<LabStatus>, timeoutMs = 5000): MeshProcesses {
  const get = async (address: string, path: string) => {
    const res = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  };
  return {
    kind: 'lab',
    controllers: async () =>
      (await status()).components
        .filter((c) => c.kind === 'controller' && c.running)
        .map((c) => ({ name: c.name, get: (path: string) => get(c.admin, path) })),
    agents: async () =>
      Promise.all(
        (await status()).components
          .filter((c) => c.kind === 'node-agent')
          .map(async (c) => {
            const admin = { name: c.name, get: (path: string) => get(c.admin, path) };
            if (!c.running) return { name: c.name, node: c.node, ready: false, detail: 'process not running', admin };
            const r = await get(c.admin, '/ready').catch((err: unknown) => ({ status: 0, body: describeError(err) }));
            return r.status === 200 ? { name: c.name, node: c.node, ready: true, admin } : { name: c.name, node: c.node, ready: false, detail: r.body.trim(), admin };
          }),
      ),
    waypoints: async () =>
      (await status()).components
        .filter((c) => c.kind === 'waypoint' && c.running)
        .map((c) => ({ name: c.name, node: c.node, admin: { name: c.name, get: (path: string) => get(c.admin, path) } })),
    byHand: (path) => `AMBIT_LAB=${lab} ambit lab status names the controller's ADMIN address; then ip netns exec ${fabricNetns} curl -s http://ADMIN${path}`,
  };
}
