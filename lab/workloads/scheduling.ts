import { AmbitError } from '../../lib/errors.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { podNodeName } from './pods.js';

/**
 * The lab's scheduler: a pod goes where `spec.nodeName` (or a
 * `kubernetes.io/hostname` nodeSelector) says, else to the node with the
 * fewest pods, ties going to the earlier node. Other nodeSelector keys,
 * affinities, taints and resources are ignored: lab nodes are identical.
 */

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

function describePod(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller === true);
  const from = owner ? ` (from ${owner.kind} ${owner.name})` : '';
  return `Pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}${from}`;
}

function pinnedNode(pod: KubeObject): { node: string; field: string } | undefined {
  const named = podNodeName(pod);
  if (named) return { node: named, field: 'spec.nodeName' };
  const spec = pod['spec'] as Record<string, unknown> | undefined;
  const selector = spec?.['nodeSelector'] as Record<string, unknown> | undefined;
  const host = selector && typeof selector === 'object' ? selector[HOSTNAME_LABEL] : undefined;
  return typeof host === 'string' ? { node: host, field: `spec.nodeSelector["${HOSTNAME_LABEL}"]` } : undefined;
}

/** Pods per node among `placed`, for nodes in `nodes` only. */
function podCounts(nodes: readonly string[], placed: readonly KubeObject[]): Map<string, number> {
  const counts = new Map(nodes.map((n) => [n, 0]));
  for (const p of placed) {
    const n = podNodeName(p);
    if (n !== undefined && counts.has(n)) counts.set(n, counts.get(n)! + 1);
  }
  return counts;
}

function choose(pod: KubeObject, nodes: readonly string[], counts: Map<string, number>): string {
  if (nodes.length === 0) throw new AmbitError('AMBIT_ERR_LAB_STATE', `${describePod(pod)} cannot be scheduled: the lab has no nodes`);
  const pin = pinnedNode(pod);
  if (pin) {
    if (!nodes.includes(pin.node)) {
      throw new AmbitError('AMBIT_ERR_MANIFEST', `${describePod(pod)}: ${pin.field} "${pin.node}" is not a lab node; the nodes are ${nodes.join(', ')}`);
    }
    return pin.node;
  }
  let best = nodes[0]!;
  for (const n of nodes) if (counts.get(n)! < counts.get(best)!) best = n;
  return best;
}

/** The node for one pod, given the pods already placed. `nodes` is in node order. */
export function schedulePod(pod: KubeObject, nodes: readonly string[], placed: readonly KubeObject[]): string {
  return choose(pod, nodes, podCounts(nodes, placed));
}

/**
 * Places several pods in order, each one counted before the next is placed.
 * Returns copies with `spec.nodeName` set. When some cannot be placed, throws
 * one AmbitError naming all of them.
 */
export function schedulePods(pods: readonly KubeObject[], nodes: readonly string[], placed: readonly KubeObject[] = []): KubeObject[] {
  const counts = podCounts(nodes, placed);
  const out: KubeObject[] = [];
  const errors: AmbitError[] = [];
  for (const pod of pods) {
    try {
      const node = choose(pod, nodes, counts);
      counts.set(node, counts.get(node)! + 1);
      const spec = { ...((pod['spec'] as Record<string, unknown> | undefined) ?? {}), nodeName: node };
      out.push({ ...pod, spec });
    } catch (err) {
      if (!(err instanceof AmbitError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new AmbitError(errors[0]!.code, `${errors.length} pods cannot be scheduled:\n  ${errors.map((e) => e.message).join('\n  ')}`);
  return out;
}

/** A port a pod takes on its node: `hostPort`, or every containerPort of a hostNetwork pod (Kubernetes defaults hostPort to it). */
function hostPorts(pod: KubeObject): string[] {
  const spec = (pod['spec'] ?? {}) as { hostNetwork?: boolean; containers?: { ports?: { containerPort?: number; hostPort?: number; protocol?: string; hostIP?: string }[] }[] };
  return (spec.containers ?? []).flatMap((c) =>
    (c.ports ?? []).flatMap((p) => {
      const port = p.hostPort ?? (spec.hostNetwork ? p.containerPort : undefined);
      return port ? [`${p.protocol ?? 'TCP'}/${port}`] : [];
    }),
  );
}

/**
 * The scheduler's NodePorts filter: why `pod` cannot go on `node` because another pod there
 * (`others`: the pods bound to nodes, finished ones aside) holds one of its host ports, or
 * undefined. This is what keeps a surge pod of a DaemonSet that declares ports on the host
 * network off a node whose old pod still runs.
 */
export function hostPortConflict(pod: KubeObject, node: string, others: readonly KubeObject[]): string | undefined {
  const wanted = new Set(hostPorts(pod));
  if (wanted.size === 0) return undefined;
  for (const o of others) {
    if (o.metadata.uid === pod.metadata.uid || podNodeName(o) !== node) continue;
    const taken = hostPorts(o).filter((p) => wanted.has(p));
    if (taken.length > 0) return `0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports (${taken.join(', ')} held by pod ${o.metadata.name})`;
  }
  return undefined;
}
