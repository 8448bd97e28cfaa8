import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { formatSpiffeId } from '../../lib/identity/spiffe.js';
import { USE_WAYPOINT_LABEL, isMeshed } from '../../lib/mesh/index.js';
import { workloadName } from '../../lib/mesh/workload.js';
import type { WaypointRef, Workload } from '../../lib/xds/types.js';

/** Pods carrying this label are a waypoint's own pods: never sent through a waypoint themselves. */
export const WAYPOINT_POD_LABEL = 'ambit.dev/waypoint';

/** What a Waypoint serves (`spec.for`), as far as the model needs it. */
export type WaypointFor = 'service' | 'workload' | 'all';

/** Looks up the `spec.for` of a Waypoint; undefined when there is no such Waypoint. */
export type WaypointLookup = (namespace: string, name: string) => WaypointFor | undefined;

function label(obj: { metadata?: { labels?: Record<string, string> } | undefined } | undefined, key: string): string | undefined {
  return obj?.metadata?.labels?.[key];
}

/**
 * The waypoint of a Service: its own `ambit.dev/use-waypoint` label (`none`
 * opts out), else its namespace's. A Waypoint known to serve only workloads
 * is skipped; an unknown one is kept, so traffic fails closed until it exists.
 */
export function serviceWaypoint(
  svc: { metadata?: { namespace?: string; labels?: Record<string, string> } },
  ns: V1Namespace | undefined,
  lookup: WaypointLookup,
): WaypointRef | null {
  const namespace = svc.metadata?.namespace ?? 'default';
  const own = label(svc, USE_WAYPOINT_LABEL);
  if (own === 'none') return null;
  const name = own ?? label(ns, USE_WAYPOINT_LABEL);
  if (!name || name === 'none') return null;
  return lookup(namespace, name) === 'workload' ? null : { namespace, name };
}

/**
 * The waypoint of traffic addressed to a pod directly: the pod's own label
 * (unless that Waypoint serves only Services), else its namespace's label
 * when that Waypoint exists and serves workloads.
 */
export function workloadWaypoint(pod: V1Pod, ns: V1Namespace | undefined, lookup: WaypointLookup): WaypointRef | null {
  if (label(pod, WAYPOINT_POD_LABEL) !== undefined) return null;
  const namespace = pod.metadata?.namespace ?? 'default';
  const own = label(pod, USE_WAYPOINT_LABEL);
  if (own === 'none') return null;
  if (own) return lookup(namespace, own) === 'service' ? null : { namespace, name: own };
  const fromNs = label(ns, USE_WAYPOINT_LABEL);
  if (!fromNs || fromNs === 'none') return null;
  const serves = lookup(namespace, fromNs);
  return serves === 'workload' || serves === 'all' ? { namespace, name: fromNs } : null;
}

/** The service account a pod runs as (`default` when unset). */
export function podServiceAccount(pod: V1Pod): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
}

/** Pods that are scheduled and not finished; host-network pods are the node's, not workloads. */
export function isLiveWorkloadPod(pod: V1Pod): boolean {
  if (!pod.metadata?.uid || !pod.metadata.name || !pod.spec?.nodeName) return false;
  if (pod.spec.hostNetwork) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * Whether a pod can take traffic: live, not shutting down, with an IP, and
 * its Ready condition True (for a waypoint, its readiness probe on /ready).
 */
export function isReadyPod(pod: V1Pod): boolean {
  if (!isLiveWorkloadPod(pod) || pod.metadata?.deletionTimestamp || !pod.status?.podIP) return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The Waypoint a pod is a proxy of (`<namespace>/<name>` from its `ambit.dev/waypoint` label), if any. */
export function waypointOfPod(pod: V1Pod | undefined): string | undefined {
  const name = label(pod, WAYPOINT_POD_LABEL);
  return name ? `${pod!.metadata?.namespace ?? 'default'}/${name}` : undefined;
}

export function toWorkload(pod: V1Pod, ns: V1Namespace | undefined, trustDomain: string, lookup: WaypointLookup): Workload | undefined {
  if (!isLiveWorkloadPod(pod)) return undefined;
  const namespace = pod.metadata!.namespace ?? 'default';
  const serviceAccount = podServiceAccount(pod);
  return {
    uid: pod.metadata!.uid!,
    namespace,
    name: pod.metadata!.name!,
    serviceAccount,
    node: pod.spec!.nodeName!,
    ip: pod.status?.podIP ?? '',
    meshed: isMeshed(pod, ns),
    labels: { ...(pod.metadata!.labels ?? {}) },
    workloadName: workloadName(pod),
    identity: formatSpiffeId({ trustDomain, namespace, serviceAccount }),
    waypoint: workloadWaypoint(pod, ns, lookup),
  };
}
