import type { Endpoint, PolicyScope, Workload, WorkloadSelector } from '../xds/types.js';

/** The part of a pushed policy that says which workloads it covers. */
export interface ScopedPolicy {
  namespace: string;
  scope: PolicyScope;
  selector: WorkloadSelector | null;
}

/**
 * Whether a policy covers a workload by its scope: mesh-wide (the controller
 * gives MESH only to policies in the root namespace), every workload of its
 * namespace, or those its selector matches there. TARGET_REFS policies cover
 * Services, not workloads, so they never match here; where a Service-targeted
 * policy applies depends on the Service's endpoints and ports.
 */
export function coversWorkload(p: ScopedPolicy, w: { namespace: string; labels: Readonly<Record<string, string>> }): boolean {
  switch (p.scope) {
    case 'MESH':
      return true;
    case 'NAMESPACE':
      return p.namespace === w.namespace;
    case 'WORKLOAD_SELECTOR':
      return p.namespace === w.namespace && Object.entries(p.selector?.matchLabels ?? {}).every(([k, v]) => w.labels[k] === v);
    case 'TARGET_REFS':
      return false;
  }
}

/**
 * Whether a Service endpoint is a workload, for Service-targeted policy: by
 * the pod uid the EndpointSlice names, or by address for an endpoint that
 * names no pod.
 */
export function isEndpointOf(e: Endpoint, w: Pick<Workload, 'uid' | 'ip'>): boolean {
  return e.workloadUid ? e.workloadUid === w.uid : e.address !== '' && e.address === w.ip;
}
