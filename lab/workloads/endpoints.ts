import { ipv4ToInt } from '../../lib/crds/index.js';
import { matchesLabels } from '../../lib/k8s/labels.js';
import type { KubeObject, OwnerReference } from '../../lib/k8s/types.js';
import { hashSuffix, stableUid } from './names.js';
import { containerPorts, isPodFinished, isPodReady, podIp, podNodeName } from './pods.js';

/**
 * The endpoints controllers: for a Service with a selector, the pods it
 * selects (same namespace, matching labels, with an IP, not finished) become
 * `Endpoints` (v1) and `EndpointSlice`s (discovery.k8s.io/v1).
 *
 * Each Service port is resolved per pod: a number is used as is, a name is
 * looked up among the pod's container ports (same protocol). A pod that lacks
 * a named port is left out of that port, as Kubernetes does, so pods with
 * different resolved ports land in different subsets and slices.
 *
 * Output is deterministic: endpoints sorted by IP, slice names derived from
 * the port set (`<service>-<5 chars>`), at most 100 endpoints per slice.
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const MAX_ENDPOINTS_PER_SLICE = 100;

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointsResult {
  /** Null for a Service without a selector: its endpoints are someone else's to write. */
  endpoints: KubeObject | null;
  endpointSlices: KubeObject[];
}

function servicePorts(service: KubeObject): ServicePort[] {
  const ports = rec(service['spec'])?.['ports'];
  if (!Array.isArray(ports)) return [];
  const out: ServicePort[] = [];
  for (const p of ports) {
    const r = rec(p);
    if (!r || typeof r['port'] !== 'number') continue;
    const sp: ServicePort = { port: r['port'], protocol: typeof r['protocol'] === 'string' ? r['protocol'] : 'TCP' };
    if (typeof r['name'] === 'string') sp.name = r['name'];
    if (typeof r['targetPort'] === 'number' || typeof r['targetPort'] === 'string') sp.targetPort = r['targetPort'];
    if (typeof r['appProtocol'] === 'string') sp.appProtocol = r['appProtocol'];
    out.push(sp);
  }
  return out;
}

/**
 * The pod port a Service port sends to: `targetPort` as a number, or the
 * pod's container port of that name and protocol; defaults to `port`.
 * Undefined when the pod has no such named port.
 */
export function resolveTargetPort(servicePort: ServicePort, pod: KubeObject): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const match = containerPorts(pod).find((c) => c.name === target && c.protocol === servicePort.protocol);
  return match?.containerPort;
}

function byIp(a: { ip: string }, b: { ip: string }): number {
  return (ipv4ToInt(a.ip) ?? 0) - (ipv4ToInt(b.ip) ?? 0) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
}

interface Member {
  pod: KubeObject;
  ip: string;
  ready: boolean;
  terminating: boolean;
  serving: boolean;
  ports: EndpointPort[];
}

function targetRef(pod: KubeObject): Rec {
  const ref: Rec = { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
  if (pod.metadata.uid) ref['uid'] = pod.metadata.uid;
  return ref;
}

function portsKey(ports: readonly EndpointPort[]): string {
  return ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',');
}

export function computeEndpoints(service: KubeObject, pods: readonly KubeObject[]): EndpointsResult {
  const namespace = service.metadata.namespace ?? 'default';
  const name = service.metadata.name;
  const spec = rec(service['spec']) ?? {};
  const selector = rec(spec['selector']);
  if (!selector || Object.keys(selector).length === 0) return { endpoints: null, endpointSlices: [] };
  const publishNotReady = spec['publishNotReadyAddresses'] === true;
  const ports = servicePorts(service);

  const members: Member[] = [];
  for (const pod of pods) {
    if ((pod.metadata.namespace ?? 'default') !== namespace) continue;
    if (!matchesLabels(selector as Record<string, string>, pod.metadata.labels)) continue;
    const ip = podIp(pod);
    if (!ip || isPodFinished(pod)) continue;
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const podReady = isPodReady(pod);
    const resolved: EndpointPort[] = [];
    for (const sp of ports) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol };
      if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
      resolved.push(ep);
    }
    members.push({ pod, ip, terminating, serving: publishNotReady || podReady, ready: !terminating && (publishNotReady || podReady), ports: resolved });
  }
  members.sort(byIp);

  // Group members by their resolved port set, in order of first appearance after sorting.
  const groups = new Map<string, Member[]>();
  for (const m of members) {
    const key = portsKey(m.ports);
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }

  const labels = { ...(service.metadata.labels ?? {}) };
  const subsets: Rec[] = [];
  for (const group of groups.values()) {
    // Endpoints lists neither terminating pods nor, for a Service with ports, pods that resolve none.
    const live = group.filter((m) => !m.terminating);
    if (live.length === 0 || (ports.length > 0 && group[0]!.ports.length === 0)) continue;
    const address = (m: Member): Rec => {
      const a: Rec = { ip: m.ip, targetRef: targetRef(m.pod) };
      const node = podNodeName(m.pod);
      if (node) a['nodeName'] = node;
      return a;
    };
    const subset: Rec = {};
    const ready = live.filter((m) => m.ready).map(address);
    const notReady = live.filter((m) => !m.ready).map(address);
    if (ready.length > 0) subset['addresses'] = ready;
    if (notReady.length > 0) subset['notReadyAddresses'] = notReady;
    if (group[0]!.ports.length > 0) {
      subset['ports'] = group[0]!.ports.map((p) => {
        const out: Rec = { port: p.port, protocol: p.protocol };
        if (p.name) out['name'] = p.name;
        if (p.appProtocol) out['appProtocol'] = p.appProtocol;
        return out;
      });
    }
    subsets.push(subset);
  }
  const endpoints: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels: { ...labels } } };
  if (subsets.length > 0) endpoints['subsets'] = subsets;

  const serviceUid = service.metadata.uid ?? stableUid('Service', namespace, name);
  const owner: OwnerReference = { apiVersion: 'v1', kind: 'Service', name, uid: serviceUid, controller: true, blockOwnerDeletion: true };
  const sliceLabels: Record<string, string> = { ...labels, [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
  if (spec['clusterIP'] === 'None') sliceLabels[HEADLESS_LABEL] = '';
  const slice = (suffixKey: string, endpointsList: Rec[], slicePorts: EndpointPort[]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${hashSuffix(suffixKey)}`, namespace, labels: { ...sliceLabels }, ownerReferences: [{ ...owner }] },
    addressType: 'IPv4',
    endpoints: endpointsList,
    ports: slicePorts.map((p) => ({ ...p })),
  });

  const endpointSlices: KubeObject[] = [];
  for (const [key, group] of groups) {
    for (let start = 0, chunk = 0; start < group.length; start += MAX_ENDPOINTS_PER_SLICE, chunk++) {
      const list = group.slice(start, start + MAX_ENDPOINTS_PER_SLICE).map((m) => {
        const ep: Rec = {
          addresses: [m.ip],
          conditions: { ready: m.ready, serving: m.serving, terminating: m.terminating },
          targetRef: targetRef(m.pod),
        };
        const node = podNodeName(m.pod);
        if (node) ep['nodeName'] = node;
        return ep;
      });
      endpointSlices.push(slice(`${key}#${chunk}`, list, group[0]!.ports));
    }
  }
  // Like Kubernetes, a selector Service with no endpoints still gets one (empty) slice,
  // so watchers can tell "no endpoints" from "not computed yet".
  if (endpointSlices.length === 0) endpointSlices.push(slice('#empty', [], []));
  return { endpoints, endpointSlices };
}

/** `computeEndpoints` for every Service, keyed `namespace/name`. */
export function computeAllEndpoints(services: readonly KubeObject[], pods: readonly KubeObject[]): Map<string, EndpointsResult> {
  const out = new Map<string, EndpointsResult>();
  for (const svc of services) out.set(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`, computeEndpoints(svc, pods));
  return out;
}
