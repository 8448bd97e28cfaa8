import type { AuthorizationRule } from '../../lib/crds/authorization-policy.js';
import { coversWorkload, isEndpointOf, workloadMtls, type PolicyRef, type WorkloadMtls } from '../../lib/policy/index.js';
import { resourceName } from '../../lib/xds/resources.js';
import type {
  AuthorizationPolicy,
  Node,
  PeerAuthentication,
  ResourceMap,
  ResourceType,
  Route,
  Service,
  WaypointRef,
  Workload,
} from '../../lib/xds/index.js';
import type { UpdateResult } from '../../lib/xds/index.js';
import { resourceProblem } from './validate.js';

/** What the updater did: an applied update, or the config becoming complete. Replicas replay these in order. */
export type StateEvent =
  | { kind: 'update'; type: ResourceType; upserts: ResourceMap[ResourceType][]; removals: string[] }
  | { kind: 'complete' };

/**
 * The agent's view of the mesh, as the controller pushed it. One writer:
 * `apply`, fed by the config stream (or by a test). Everything else reads
 * through the query methods. A pushed update is validated whole before any of
 * it is applied, so a rejected one (NACK) leaves the last good state.
 */
export class MeshState {
  private readonly nodes = new Map<string, Node>();
  private readonly workloads = new Map<string, Workload>();
  private readonly services = new Map<string, Service>();
  private readonly policies = new Map<string, AuthorizationPolicy>();
  private readonly peerAuthns = new Map<string, PeerAuthentication>();
  /** HTTPRoutes and GRPCRoutes, for a waypoint (node agents are sent none). */
  private readonly routes = new Map<string, Route>();
  private workloadByIp = new Map<string, Workload>();
  private serviceByVip = new Map<string, Service>();
  private readonly listeners = new Set<() => void>();
  private readonly observers = new Set<(e: StateEvent) => void>();
  /** Compiled when config changes, not per connection: each policy in the evaluator's form... */
  private readonly policyRefs = new Map<string, PolicyRef>();
  /** ...and, lazily until the next change, what applies to each local workload and port. */
  private readonly applicable = new Map<string, PolicyRef[]>();
  private readonly mtls = new Map<string, WorkloadMtls>();
  private readonly byNode = new Map<string, Workload[]>();
  /** Workload uid -> the waypoint its traffic must come through, for one generation (`guardingWaypoint`). */
  private guards: Map<string, WaypointRef> | undefined;
  private version = 0;
  private completed = false;

  /**
   * True once every resource type has arrived at least once. Before that the
   * state may hold workloads but not yet the policies that govern them, so
   * nothing may be decided from it: inbound admits nothing, and the capture
   * and enrollment in the kernel stay as the last agent left them.
   */
  get complete(): boolean {
    return this.completed;
  }

  /** Called by the updater once the first complete config is applied. */
  markComplete(): void {
    if (this.completed) return;
    this.completed = true;
    for (const o of this.observers) o({ kind: 'complete' });
    for (const l of this.listeners) l();
  }

  apply<T extends ResourceType>(type: T, upserts: ResourceMap[T][], removals: string[]): UpdateResult {
    const problem = upserts.map((r) => resourceProblem(type, r)).find(Boolean);
    if (problem) return { ok: false, error: problem };
    const store = this.storeOf(type) as Map<string, ResourceMap[T]>;
    for (const name of removals) store.delete(name);
    for (const r of upserts) store.set(resourceName(type, r), r);
    if (type === 'Workload') {
      this.workloadByIp = new Map([...this.workloads.values()].filter((w) => w.ip).map((w) => [w.ip, w]));
      this.byNode.clear();
    }
    if (type === 'Service') this.serviceByVip = new Map([...this.services.values()].filter((s) => s.clusterIp).map((s) => [s.clusterIp, s]));
    if (type === 'AuthorizationPolicy') {
      for (const name of removals) this.policyRefs.delete(name);
      for (const p of upserts as AuthorizationPolicy[]) this.policyRefs.set(resourceName('AuthorizationPolicy', p), toPolicyRef(p));
    }
    this.applicable.clear();
    this.mtls.clear();
    this.guards = undefined;
    this.version++;
    for (const o of this.observers) o({ kind: 'update', type, upserts, removals });
    for (const l of this.listeners) l();
    return { ok: true };
  }

  /** Every applied update and the completion, in order, with their contents (for replicas). */
  observe(fn: (e: StateEvent) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Every resource of a type, as one full update would carry them. */
  all<T extends ResourceType>(type: T): ResourceMap[T][] {
    return [...(this.storeOf(type) as Map<string, ResourceMap[T]>).values()];
  }

  /** Called after every applied update. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A node's InternalIP, where its agent's HBONE listens. */
  nodeIp(name: string): string | undefined {
    return this.nodes.get(name)?.ip;
  }

  workloadAt(ip: string): Workload | undefined {
    return this.workloadByIp.get(ip);
  }

  workload(uid: string): Workload | undefined {
    return this.workloads.get(uid);
  }

  serviceAt(vip: string): Service | undefined {
    return this.serviceByVip.get(vip);
  }

  /** The Service `namespace/name`. */
  service(namespace: string, name: string): Service | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /**
   * The Service in front of a waypoint's proxies (the controller creates it with the
   * Deployment, named after the Waypoint). None: the Waypoint does not exist, and traffic
   * labelled for it goes straight to its destination, as its policies' status says.
   */
  waypointService(ref: WaypointRef): Service | undefined {
    return this.services.get(`${ref.namespace}/${ref.name}`);
  }

  /**
   * The waypoint a workload admits traffic from, if any: the waypoint of a Service it is an
   * endpoint of, or its own (traffic addressed to it goes through one), when that waypoint
   * exists. Once a Service is bound to a waypoint its
   * endpoints are reached only through it, so a call to the pod's own address cannot skip
   * the waypoint's rules (SPEC, Waypoint).
   */
  guardingWaypoint(w: Workload): WaypointRef | undefined {
    if (!this.guards) {
      this.guards = new Map();
      for (const s of this.services.values()) {
        if (!s.waypoint || !this.waypointService(s.waypoint)) continue;
        for (const e of s.endpoints) {
          const target = e.workloadUid ? this.workloads.get(e.workloadUid) : this.workloadByIp.get(e.address);
          if (target && isEndpointOf(e, target) && !this.guards.has(target.uid)) this.guards.set(target.uid, s.waypoint);
        }
      }
    }
    // A pod whose own traffic goes through a waypoint (`spec.for` workload or all) is guarded by it too.
    return this.guards.get(w.uid) ?? (w.waypoint && this.waypointService(w.waypoint) ? w.waypoint : undefined);
  }

  workloadsOn(node: string): readonly Workload[] {
    let list = this.byNode.get(node);
    if (!list) this.byNode.set(node, (list = [...this.workloads.values()].filter((w) => w.node === node)));
    return list;
  }

  /** Bumped by every applied update: what is derived from the state is valid for one generation. */
  get generation(): number {
    return this.version;
  }

  /**
   * The policies the destination node agent enforces on a connection to
   * `port` of a workload, mapped to the evaluator's shape: those that cover
   * the workload by scope (mesh-wide, its namespace, a selector), on every
   * port; and those that target a Service the node agents enforce
   * (`nodeAgentServices`: the controller left out what a waypoint serves)
   * when the workload is one of that Service's endpoints and `port` one of
   * its target ports there.
   */
  policiesFor(w: Workload, port: number): readonly PolicyRef[] {
    const key = `${w.uid}:${port}`;
    let refs = this.applicable.get(key);
    if (!refs) {
      refs = [...this.policies.entries()]
        .filter(([, p]) => (p.scope === 'TARGET_REFS' ? p.nodeAgentServices.some((s) => this.isServicePort(p.namespace, s, w, port)) : coversWorkload(p, w)))
        .map(([name]) => this.policyRefs.get(name)!);
      this.applicable.set(key, refs);
    }
    return refs;
  }

  /**
   * The policies a waypoint enforces on a connection it serves: those that target it, and
   * those that target `service` (the Service the client addressed) and leave it to the
   * waypoint (not among `nodeAgentServices`).
   */
  waypointPolicies(waypoint: WaypointRef, service: Service | undefined): readonly PolicyRef[] {
    const key = `waypoint:${waypoint.namespace}/${waypoint.name}:${service ? `${service.namespace}/${service.name}` : ''}`;
    let refs = this.applicable.get(key);
    if (!refs) {
      const targets = (p: AuthorizationPolicy) =>
        p.scope === 'TARGET_REFS' &&
        p.targetRefs.some((r) =>
          r.kind === 'Waypoint'
            ? p.namespace === waypoint.namespace && r.name === waypoint.name
            : r.kind === 'Service' && service !== undefined && p.namespace === service.namespace && r.name === service.name && !p.nodeAgentServices.includes(r.name),
        );
      refs = [...this.policies.entries()].filter(([, p]) => targets(p)).map(([name]) => this.policyRefs.get(name)!);
      this.applicable.set(key, refs);
    }
    return refs;
  }

  private isServicePort(namespace: string, service: string, w: Workload, port: number): boolean {
    const endpoints = this.services.get(`${namespace}/${service}`)?.endpoints ?? [];
    return endpoints.some((e) => isEndpointOf(e, w) && e.ports.some((m) => m.targetPort === port));
  }

  /** The workload's mTLS modes, whole and per port (lib/policy/mtls.ts has the precedence). */
  mtlsFor(w: Workload): WorkloadMtls {
    let m = this.mtls.get(w.uid);
    if (!m) this.mtls.set(w.uid, (m = workloadMtls(this.peerAuthns.values(), w)));
    return m;
  }

  private storeOf(type: ResourceType): Map<string, unknown> {
    return { Node: this.nodes, Workload: this.workloads, Service: this.services, AuthorizationPolicy: this.policies, PeerAuthentication: this.peerAuthns, Route: this.routes }[type];
  }

  dump(): unknown {
    return {
      generation: this.version,
      complete: this.completed,
      nodes: [...this.nodes.values()],
      workloads: [...this.workloads.values()],
      services: [...this.services.values()],
      authorizationPolicies: [...this.policies.values()],
      peerAuthentications: [...this.peerAuthns.values()],
      routes: [...this.routes.values()],
    };
  }
}


/**
 * The evaluator's shape of a pushed policy, L7 fields included: without a request (a node
 * agent, or a waypoint on a connection that is not HTTP) the evaluator counts them
 * fail-closed (ALLOW: no match; DENY: match on the L4 parts), with one (a waypoint, per
 * HTTP request) it checks them.
 */
function toPolicyRef(p: AuthorizationPolicy): PolicyRef {
  const rules: AuthorizationRule[] = p.rules.map((r) => {
    const when = [...r.when, ...r.l7When];
    return {
      ...(r.from.length ? { from: r.from.map((source) => ({ source: nonEmpty(source) })) } : {}),
      ...(r.to.length ? { to: r.to.map((op) => ({ operation: nonEmpty(op) })) } : {}),
      ...(when.length ? { when: when.map((c) => nonEmpty(c)) } : {}),
    };
  });
  return { namespace: p.namespace, name: p.name, action: p.action, rules };
}

/** proto3 decodes absent lists as []: drop them so "not set" is not "matches nothing". */
function nonEmpty<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => !(Array.isArray(v) && v.length === 0))) as T;
}
