import { CoreV1Api } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import type { WaypointRef } from '../../lib/xds/index.js';
import { apiStatus, describeError } from '../cluster/kube.js';
import type { Cluster } from '../cluster/target.js';
import { readDump, type ProxyDump } from './dumps.js';

/** A proxy and what it holds. */
export interface Held {
  /** The agent's process/pod name, or the waypoint proxy's. */
  name: string;
  dump: ProxyDump;
}

/** The config dump of the node agent of `node`; throws, saying what to check, when there is none to read. */
export async function agentOf(cluster: Cluster, node: string): Promise<Held> {
  const agents = (await cluster.mesh.agents()).filter((a) => a.node === node);
  if (agents.length === 0) {
    const nodes = [...new Set((await cluster.mesh.agents()).map((a) => a.node).filter(Boolean))].join(', ');
    throw new AmbitError('AMBIT_ERR_CONFIG', `no node agent on node ${JSON.stringify(node)} (agents run on: ${nodes || 'no node'}); 'ambit status' lists them`);
  }
  // During a rolling update two agents share a node; the ready one serves it.
  const errors: string[] = [];
  for (const a of [...agents].sort((x, y) => Number(y.ready) - Number(x.ready))) {
    const r = await readDump(a.admin);
    if (r.ok) return { name: a.name, dump: r.value };
    errors.push(r.error);
  }
  throw new AmbitError('AMBIT_ERR_CONFIG', `cannot read the config dump of the node agent of ${node}: ${errors.join('; ')}`);
}

/** The config dumps of every proxy of a Waypoint (its replicas), in name order. */
export async function waypointProxies(cluster: Cluster, ref: WaypointRef): Promise<Held[]> {
  const found: Held[] = [];
  const errors: string[] = [];
  for (const p of await cluster.mesh.waypoints()) {
    const r = await readDump(p.admin);
    if (!r.ok) errors.push(r.error);
    else if (r.value.waypoint?.namespace === ref.namespace && r.value.waypoint.name === ref.name) found.push({ name: r.value.pod ?? p.name, dump: r.value });
  }
  if (found.length === 0) {
    throw new AmbitError(
      'AMBIT_ERR_CONFIG',
      `no running proxy of waypoint ${ref.namespace}/${ref.name}${errors.length ? ` (unreadable: ${errors.join('; ')})` : ''}; 'ambit waypoint list -n ${ref.namespace}' shows whether it is Programmed`,
    );
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The node a pod runs on, from the Kubernetes API. */
export async function nodeOfPod(cluster: Cluster, namespace: string, name: string): Promise<string> {
  let pod;
  try {
    pod = await cluster.kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace, name });
  } catch (err) {
    if (apiStatus(err) === 404) throw new AmbitError('AMBIT_ERR_CONFIG', `no pod ${namespace}/${name} (kubectl get pods -n ${namespace})`);
    throw new AmbitError('AMBIT_ERR_CONFIG', `cannot read pod ${namespace}/${name}: ${describeError(err)}`);
  }
  const node = pod.spec?.nodeName;
  if (!node) throw new AmbitError('AMBIT_ERR_CONFIG', `pod ${namespace}/${name} is not scheduled to a node yet`);
  return node;
}
