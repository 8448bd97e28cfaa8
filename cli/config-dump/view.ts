import { coversWorkload, isEndpointOf, modeOnPort, type PolicyRef } from '../../lib/policy/index.js';
import type { AuthorizationPolicy, Node, PeerAuthentication, Route, Service, WaypointRef, Workload } from '../../lib/xds/index.js';
import type { MeshState } from '../../node-agent/state/mesh-state.js';
import type { CertSummary } from '../../node-agent/identity/certs.js';
import type { ProxyDump } from '../proxies/dumps.js';

/**
 * What one proxy holds, in the shape config-dump prints (and `-o json` carries): the
 * resources, its certificates and its stream's versions. For a pod, only what concerns it.
 */
export interface ConfigView {
  /** `node-agent NODE (process)`, `pod NS/NAME on NODE (node-agent ...)`, `waypoint NS/NAME (pod ...)`. */
  proxy: string;
  versions: Record<string, string>;
  complete: boolean;
  nodes: Node[];
  workloads: Workload[];
  services: Service[];
  authorizationPolicies: AuthorizationPolicy[];
  peerAuthentications: PeerAuthentication[];
  routes: Route[];
  certificates: CertSummary[];
  /** For a pod: its effective mTLS mode, whole and per port, and who set it. */
  mtls?: { mode: string; from: string | null; ports: Record<string, { mode: string; from: string | null }> };
  /** For a pod: the waypoint whose proxies alone may connect to it. */
  guardedBy?: WaypointRef | null;
}

const byName = (policies: readonly PolicyRef[], all: readonly AuthorizationPolicy[]) => {
  const names = new Set(policies.map((p) => `${p.namespace}/${p.name}`));
  return all.filter((p) => names.has(`${p.namespace}/${p.name}`));
};

export function wholeView(proxy: string, dump: ProxyDump, state: MeshState): ConfigView {
  return {
    proxy,
    versions: { ...(dump.controller.versions ?? {}) },
    complete: dump.model.complete,
    nodes: state.all('Node'),
    workloads: state.all('Workload'),
    services: state.all('Service'),
    authorizationPolicies: state.all('AuthorizationPolicy'),
    peerAuthentications: state.all('PeerAuthentication'),
    routes: state.all('Route'),
    certificates: dump.certificates ?? [],
  };
}

/** The ports a pod serves as an endpoint (target ports), each a key policiesFor reads. */
function servedPorts(state: MeshState, w: Workload): number[] {
  const ports = new Set<number>();
  for (const s of state.all('Service')) for (const e of s.endpoints) if (isEndpointOf(e, w)) for (const m of e.ports) ports.add(m.targetPort);
  return [...ports].sort((a, b) => a - b);
}

/**
 * The part of its node agent's config that concerns one pod: the pod, the Services it is an
 * endpoint of, the AuthorizationPolicies the agent enforces on it (MeshState.policiesFor on
 * each port it serves, and on any other port), the PeerAuthentications that cover it with
 * the mode in force, and its certificate.
 */
export function podView(proxy: string, dump: ProxyDump, state: MeshState, w: Workload): ConfigView {
  const ports = servedPorts(state, w);
  const policies = new Map<string, PolicyRef>();
  // Port 0 is no port a policy names: what policiesFor gives there applies on every port.
  for (const port of [0, ...ports]) for (const p of state.policiesFor(w, port)) policies.set(`${p.namespace}/${p.name}`, p);
  const mtls = state.mtlsFor(w);
  return {
    proxy,
    versions: { ...(dump.controller.versions ?? {}) },
    complete: dump.model.complete,
    nodes: state.all('Node').filter((n) => n.name === w.node),
    workloads: [w],
    services: state.all('Service').filter((s) => s.endpoints.some((e) => isEndpointOf(e, w))),
    authorizationPolicies: byName([...policies.values()], state.all('AuthorizationPolicy')),
    peerAuthentications: state.all('PeerAuthentication').filter((p) => coversWorkload(p, w)),
    routes: [],
    certificates: (dump.certificates ?? []).filter((c) => c.identity === w.identity),
    mtls: {
      mode: mtls.mode,
      from: mtls.modeFrom ?? null,
      ports: Object.fromEntries(ports.map((p) => [String(p), { mode: modeOnPort(mtls, p), from: mtls.portsFrom.get(p) ?? mtls.modeFrom ?? null }])),
    },
    guardedBy: state.guardingWaypoint(w) ?? null,
  };
}

/**
 * What a waypoint proxy holds that it acts on: the Services bound to it (with their
 * TrafficPolicy), the AuthorizationPolicies it enforces (MeshState.waypointPolicies for
 * each of them), its routes and its certificate. Workloads and nodes are its node's view
 * (config-dump -o json has them all).
 */
export function waypointView(proxy: string, dump: ProxyDump, state: MeshState, ref: WaypointRef): ConfigView {
  const whole = wholeView(proxy, dump, state);
  const services = state.all('Service').filter((s) => s.waypoint?.namespace === ref.namespace && s.waypoint.name === ref.name);
  const policies = new Map<string, PolicyRef>();
  for (const s of [undefined, ...services]) for (const p of state.waypointPolicies(ref, s)) policies.set(`${p.namespace}/${p.name}`, p);
  return { ...whole, workloads: [], nodes: [], services, authorizationPolicies: byName([...policies.values()], whole.authorizationPolicies) };
}
