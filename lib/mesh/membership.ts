import { DATAPLANE_MODE_AMBIENT, DATAPLANE_MODE_LABEL, DATAPLANE_MODE_NONE } from './labels.js';

interface Labelled {
  metadata?: { labels?: Record<string, string> | undefined } | undefined;
}

/** Whether a namespace opts its pods into the mesh (`ambit.dev/dataplane-mode=ambient`). */
export function namespaceInMesh(namespace: Labelled | undefined): boolean {
  return namespace?.metadata?.labels?.[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT;
}

/**
 * Whether a pod's traffic belongs in the mesh: its namespace opts in with
 * `ambit.dev/dataplane-mode=ambient` and the pod does not opt out with
 * `ambit.dev/dataplane-mode=none`. Host-network pods never do: their traffic
 * is the node's.
 */
export function isMeshed(pod: Labelled & { spec?: { hostNetwork?: boolean | undefined } | undefined }, namespace: Labelled | undefined): boolean {
  if (!namespaceInMesh(namespace)) return false;
  if (pod.spec?.hostNetwork) return false;
  return pod.metadata?.labels?.[DATAPLANE_MODE_LABEL] !== DATAPLANE_MODE_NONE;
}
