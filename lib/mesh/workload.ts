import type { V1Pod } from '@kubernetes/client-node';

/**
 * The workload a pod belongs to, as metrics and logs name it: the owning
 * Deployment (a ReplicaSet's name minus its template hash), else the owner's
 * name, else the `app.kubernetes.io/name` or `app` label, else the pod name.
 */
export function workloadName(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner) {
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
    return owner.name;
  }
  const labels = pod.metadata?.labels ?? {};
  return labels['app.kubernetes.io/name'] ?? labels.app ?? pod.metadata?.name ?? 'unknown';
}
