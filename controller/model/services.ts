import type { V1EndpointSlice, V1Namespace, V1Service } from '@kubernetes/client-node';
import type { Endpoint, PortMapping, Service, ServicePort, TrafficPolicy } from '../../lib/xds/types.js';
import type { ServiceLoadBalancer } from './traffic-policies.js';
import { serviceWaypoint, type WaypointLookup } from './workloads.js';

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function servicePorts(svc: V1Service): ServicePort[] {
  return (svc.spec?.ports ?? [])
    .filter((p) => typeof p.port === 'number')
    .map((p) => {
      const t = p.targetPort as number | string | undefined;
      const numeric = typeof t === 'number' ? t : typeof t === 'string' && /^\d+$/.test(t) ? Number(t) : undefined;
      return {
        name: p.name ?? '',
        port: p.port,
        targetPort: t === undefined ? p.port : (numeric ?? 0),
        targetPortName: typeof t === 'string' && numeric === undefined ? t : '',
        protocol: p.protocol ?? 'TCP',
        appProtocol: p.appProtocol ?? '',
      };
    });
}

/**
 * A Service with its endpoints: every IPv4 address of its EndpointSlices,
 * each with the pod it is (by uid, else found by name through `podUid`) and
 * its port per Service port (slice ports are matched by name, as kube-proxy
 * does). Sorted by address so equal input gives equal output. `loadBalancer`
 * and `trafficPolicy` (its L7 half, for waypoints) come from the
 * TrafficPolicy in force for the Service.
 */
export function toService(
  svc: V1Service,
  slices: readonly V1EndpointSlice[],
  ns: V1Namespace | undefined,
  lookup: WaypointLookup,
  podUid: (namespace: string, name: string) => string | undefined,
  loadBalancer: ServiceLoadBalancer,
  trafficPolicy: TrafficPolicy | null = null,
): Service | undefined {
  const name = svc.metadata?.name;
  if (!name || svc.spec?.type === 'ExternalName') return undefined;
  const namespace = svc.metadata?.namespace ?? 'default';
  const ports = servicePorts(svc);
  const byAddress = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType && slice.addressType !== 'IPv4') continue;
    const slicePorts = slice.ports ?? [];
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef;
      const uid = ref?.kind === 'Pod' ? (ref.uid ?? (ref.name ? podUid(ref.namespace ?? namespace, ref.name) : undefined) ?? '') : '';
      const mappings: PortMapping[] = [];
      for (const sp of ports) {
        const match = slicePorts.find((p) => (p.name ?? '') === sp.name && (p.protocol ?? 'TCP') === sp.protocol);
        if (match?.port !== undefined) mappings.push({ servicePort: sp.port, targetPort: match.port });
      }
      for (const address of ep.addresses ?? []) {
        const entry: Endpoint = { workloadUid: uid, address, node: ep.nodeName ?? '', ready: ep.conditions?.ready !== false, ports: mappings };
        const seen = byAddress.get(address);
        // Two slices can list one address briefly while they are rewritten: prefer the ready entry.
        if (!seen || (!seen.ready && entry.ready)) byAddress.set(address, entry);
      }
    }
  }
  const clusterIp = svc.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? svc.spec.clusterIP : '';
  return {
    namespace,
    name,
    hostname: `${name}.${namespace}.svc.cluster.local`,
    clusterIp,
    ports,
    endpoints: [...byAddress.values()].sort((a, b) => compareIp(a.address, b.address)),
    waypoint: serviceWaypoint(svc as { metadata?: { namespace?: string; labels?: Record<string, string> } }, ns, lookup),
    lbPolicy: loadBalancer.lbPolicy,
    lbHashHeader: loadBalancer.lbHashHeader,
    trafficPolicy,
  };
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
