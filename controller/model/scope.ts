import { coversWorkload, isEndpointOf } from '../../lib/policy/index.js';
import type { AuthorizationPolicy, PeerAuthentication, ResourceMap, ResourceType, Route, Service, WaypointRef, Workload } from '../../lib/xds/types.js';

/**
 * Which node agents need each pushed resource: the per-node scoping of the
 * config push. An agent is asked about
 *
 * - every node (where HBONE to a pod goes) and every Service (ClusterIP
 *   resolution, endpoints anywhere): `all`;
 * - workloads in the mesh anywhere, as destinations and as the sources its
 *   inbound side verifies tunnels against: `all`; its own node's workloads
 *   whatever their mesh state (it captures and enrolls them, and a namespace
 *   label can put them in the mesh at any moment). A workload outside the mesh
 *   on another node is not sent: an agent never tunnels to it nor accepts a
 *   tunnel from it, and only would have named it in the metric labels of a
 *   plaintext caller or an unmeshed destination (those say `unknown`, as for
 *   any address that is not a workload). Sending them would cost every agent
 *   bytes and pushes for every pod of the cluster outside the mesh;
 * - the AuthorizationPolicies and PeerAuthentications that can apply to a
 *   workload on its node (and to a waypoint's proxies, the policies that
 *   waypoint enforces): mesh-wide ones; namespace-wide ones where the node
 *   runs a workload of the namespace; selector ones where it runs a workload
 *   the selector matches; Service-targeted ones (left to the node agents,
 *   `nodeAgentServices`) where it runs an endpoint of the Service. "A
 *   workload" counts every mesh state, so a namespace joining the mesh finds
 *   its policies already in place;
 * - no route: a Route goes only to the proxies of the waypoints that serve
 *   one of its parent Services (node agents apply no L7 routing; they get an
 *   empty Route set so that their config is complete).
 *
 * A policy's scope depends on where workloads run and which are endpoints:
 * SCOPE_INPUTS names the types whose changes can move it.
 */

/**
 * Every agent, or these views: a node's name (its agent), or `waypointView(ref)` (the
 * proxies of a Waypoint, which get their node's view of everything else).
 */
export type Scope = 'all' | ReadonlySet<string>;

/** The view the proxies of a Waypoint are served, besides what goes to every agent. */
export const waypointView = (ref: WaypointRef): string => `waypoint/${ref.namespace}/${ref.name}`;

export const SCOPE_INPUTS: Readonly<Record<ResourceType, readonly ResourceType[]>> = {
  Node: [],
  Workload: [],
  Service: [],
  AuthorizationPolicy: ['Workload', 'Service'],
  PeerAuthentication: ['Workload'],
  Route: ['Service'],
};

export function sameScope(a: Scope | undefined, b: Scope | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === 'all' || b === 'all') return false;
  if (a.size !== b.size) return false;
  for (const n of a) if (!b.has(n)) return false;
  return true;
}

/**
 * Where policies apply, from the workloads and Services of one moment. Built
 * once per change of either and asked about every policy (for the push, and
 * for the status that says where each is enforced): lookups by namespace, uid
 * and address instead of scans of the cluster.
 */
export class Placement {
  private readonly byNamespace = new Map<string, Workload[]>();
  private byIp: Map<string, Workload> | undefined;

  constructor(
    private readonly workloads: ReadonlyMap<string, Workload>,
    private readonly services: ReadonlyMap<string, Service>,
  ) {
    for (const w of workloads.values()) {
      const list = this.byNamespace.get(w.namespace);
      if (list) list.push(w);
      else this.byNamespace.set(w.namespace, [w]);
    }
  }

  workloadsIn(namespace: string): readonly Workload[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  scopeOf<T extends ResourceType>(type: T, r: ResourceMap[T]): Scope {
    switch (type) {
      case 'Workload': {
        const w = r as Workload;
        return w.meshed ? 'all' : new Set([w.node]);
      }
      case 'AuthorizationPolicy':
      case 'PeerAuthentication':
        return this.policyScope(r as AuthorizationPolicy | PeerAuthentication);
      case 'Route': {
        const views = new Set<string>();
        for (const p of (r as Route).parents) {
          const waypoint = this.services.get(`${p.namespace}/${p.name}`)?.waypoint;
          if (waypoint) views.add(waypointView(waypoint));
        }
        return views;
      }
      default:
        return 'all';
    }
  }

  private policyScope(p: AuthorizationPolicy | PeerAuthentication): Scope {
    if (p.scope === 'MESH') return 'all';
    const nodes = new Set<string>();
    if (p.scope === 'TARGET_REFS') {
      const authz = p as AuthorizationPolicy;
      // The waypoints that enforce it: a targeted Waypoint; the waypoint of a targeted Service the node agents leave to one.
      for (const r of authz.targetRefs) {
        if (r.kind === 'Waypoint') nodes.add(waypointView({ namespace: p.namespace, name: r.name }));
        const bound = r.kind === 'Service' && !authz.nodeAgentServices.includes(r.name) ? this.services.get(`${p.namespace}/${r.name}`)?.waypoint : undefined;
        if (bound) nodes.add(waypointView(bound));
      }
      for (const s of authz.nodeAgentServices) {
        for (const e of this.services.get(`${p.namespace}/${s}`)?.endpoints ?? []) {
          // The agent applies the policy to the workload an endpoint is (lib/policy isEndpointOf): by uid, else by address.
          const w = e.workloadUid ? this.workloads.get(e.workloadUid) : this.workloadAt(e.address);
          if (w && isEndpointOf(e, w)) nodes.add(w.node);
        }
      }
      return nodes;
    }
    for (const w of this.byNamespace.get(p.namespace) ?? []) if (coversWorkload(p, w)) nodes.add(w.node);
    return nodes;
  }

  private workloadAt(ip: string): Workload | undefined {
    this.byIp ??= new Map([...this.workloads.values()].filter((w) => w.ip).map((w) => [w.ip, w]));
    return this.byIp.get(ip);
  }
}
