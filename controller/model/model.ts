import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { InformerEvent } from '../../lib/k8s/informer.js';
import type { Logger } from '../../lib/log.js';
import { namespaceInMesh } from '../../lib/mesh/index.js';
import { RESOURCE_TYPES, resourceName, type ResourceMap, type ResourceType, type Service, type WaypointRef, type Workload } from '../../lib/xds/index.js';
import { nodeAgentServices, type EnforcementView, type WaypointState } from './enforcement.js';
import { AFFECTS, AFFECTS_STATUS, ROUTE_KINDS, type BookKind, type RouteKindName, type WatchedKind } from './kinds.js';
import {
  authorizationPolicyBook,
  formatFieldErrors,
  peerAuthenticationBook,
  routeBook,
  trafficPolicyBook,
  type CompiledAuthorizationPolicy,
  type PolicyBook,
  type RawObject,
} from './policies.js';
import { resolveRoute, type CompiledRoute, type RouteContext, type RouteResolution } from './routes.js';
import { Placement, type Scope } from './scope.js';
import { SERVICE_NAME_LABEL, toService } from './services.js';
import { DEFAULT_LOAD_BALANCER, bindTrafficPolicies, type CompiledTrafficPolicy, type TrafficPolicyBinding } from './traffic-policies.js';
import { WAYPOINT_POD_LABEL, isLiveWorkloadPod, isReadyPod, podServiceAccount, serviceWaypoint, toWorkload, waypointOfPod, type WaypointFor, type WaypointLookup } from './workloads.js';

/**
 * The mesh model: the one owner of everything the controller knows about the
 * cluster. Its only writer is `apply`, fed by the informers (or by a test);
 * everything else reads: the pushed resources per type (rebuilt lazily, only
 * for the types a change dirtied), and the queries the CA and the
 * authenticator need.
 */

export interface ModelOptions {
  trustDomain: string;
  /** PeerAuthentication / AuthorizationPolicy without a selector here are mesh-wide. */
  rootNamespace: string;
  log: Logger;
}

export interface ModelChange {
  kind: WatchedKind;
  /** Resource types this change may have changed. */
  types: readonly ResourceType[];
  /** Whether policy status conditions may have changed. */
  status: boolean;
}

type Listener = (change: ModelChange) => void;

/**
 * The pushed resources of one type, kept up to date by rebuilding only the
 * source objects a change touched, so a resource nothing touched stays the
 * same object (the config server hashes and encodes only new objects).
 */
interface Built<T extends ResourceType> {
  /** The type generation `map` reflects. */
  gen: number;
  map: Map<string, ResourceMap[T]>;
  /** Source object key (a pod's `<namespace>/<name>`, a policy's key...) -> the name of the resource built from it. */
  names: Map<string, string>;
  /** Source keys to rebuild, or all of them. */
  dirty: Set<string> | 'all';
}

const keyOf = (obj: { metadata?: { name?: string; namespace?: string } }): string | undefined => {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  return obj.metadata?.namespace ? `${obj.metadata.namespace}/${name}` : name;
};

export class MeshModel implements EnforcementView {
  readonly trustDomain: string;
  readonly rootNamespace: string;
  private readonly log: Logger;
  private readonly namespaces = new Map<string, V1Namespace>();
  private readonly pods = new Map<string, V1Pod>();
  private readonly podsByNode = new Map<string, Set<string>>();
  /** The pods of each Waypoint (`<namespace>/<name>` -> pod keys), by their `ambit.dev/waypoint` label. */
  private readonly podsByWaypoint = new Map<string, Set<string>>();
  private readonly services = new Map<string, V1Service>();
  private readonly slices = new Map<string, V1EndpointSlice>();
  private readonly serviceAccounts = new Map<string, RawObject>();
  private readonly nodes = new Map<string, V1Node>();
  private readonly waypoints = new Map<string, RawObject>();
  readonly authorizationPolicies: PolicyBook<CompiledAuthorizationPolicy>;
  readonly peerAuthentications: PolicyBook<ResourceMap['PeerAuthentication']>;
  readonly trafficPolicies: PolicyBook<CompiledTrafficPolicy>;
  readonly httpRoutes: PolicyBook<CompiledRoute>;
  readonly grpcRoutes: PolicyBook<CompiledRoute>;
  /** The EndpointSlices of each Service (`<namespace>/<service>`), by slice key. */
  private readonly slicesByService = new Map<string, Map<string, V1EndpointSlice>>();
  private binding: { gen: number; value: TrafficPolicyBinding } | undefined;
  private placement: { gens: string; value: Placement } | undefined;
  private readonly typeGens = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, 1])) as Record<ResourceType, number>;
  private readonly built = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, { gen: 0, map: new Map(), names: new Map(), dirty: 'all' }])) as { [T in ResourceType]: Built<T> };
  private readonly listeners = new Set<Listener>();
  /** The resourceVersion of the last event applied, per kind: how far the model has read each watch. */
  private readonly observed = new Map<WatchedKind, string>();
  private gen = 0;

  constructor(opts: ModelOptions) {
    this.trustDomain = opts.trustDomain;
    this.rootNamespace = opts.rootNamespace;
    this.log = opts.log;
    this.authorizationPolicies = authorizationPolicyBook(opts.rootNamespace);
    this.peerAuthentications = peerAuthenticationBook(opts.rootNamespace);
    this.trafficPolicies = trafficPolicyBook();
    this.httpRoutes = routeBook('HTTPRoute');
    this.grpcRoutes = routeBook('GRPCRoute');
  }

  /** Bumped on every applied change. */
  get generation(): number {
    return this.gen;
  }

  /** The resourceVersion of the last `kind` event applied (opaque, as the API server gave it). */
  observedResourceVersion(kind: WatchedKind): string | undefined {
    return this.observed.get(kind);
  }

  /** Bumped when a change may have altered the resources of `type`. */
  typeGeneration(type: ResourceType): number {
    return this.typeGens[type];
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---- the one writer ----

  apply(kind: WatchedKind, event: InformerEvent, obj: RawObject): void {
    const key = keyOf(obj);
    if (!key) return;
    const del = event === 'delete';
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.observed.set(kind, rv);
    const namespace = obj.metadata?.namespace ?? '';
    /** Types beyond AFFECTS[kind] this change dirtied. */
    let also: readonly ResourceType[] = [];
    switch (kind) {
      case 'Namespace':
        put(this.namespaces, key, obj as V1Namespace, del);
        // Mesh membership and the namespace waypoint of its pods and Services, and so which policy targets the agents enforce.
        this.touchNamespace(key, ['Workload', 'Service', 'AuthorizationPolicy']);
        this.touchRoutes();
        break;
      case 'Pod':
        if (this.applyPod(key, obj as V1Pod, del)) also = ['AuthorizationPolicy'];
        this.touch('Workload', [key]);
        break;
      case 'Service':
        put(this.services, key, obj as V1Service, del);
        this.touch('Service', [key]);
        this.touchNamespace(namespace, ['AuthorizationPolicy']);
        this.touchRoutes();
        break;
      case 'EndpointSlice':
        this.applySlice(key, obj as V1EndpointSlice, del);
        break;
      case 'ServiceAccount':
        put(this.serviceAccounts, key, obj, del);
        break;
      case 'Node':
        put(this.nodes, key, obj as V1Node, del);
        this.touch('Node', [key]);
        break;
      case 'Waypoint':
        put(this.waypoints, key, obj, del);
        this.touchNamespace(namespace, ['Workload', 'Service', 'AuthorizationPolicy']);
        this.touchRoutes();
        break;
      case 'AuthorizationPolicy':
      case 'PeerAuthentication':
        this.applyPolicy(kind, key, obj, del);
        this.touch(kind, [key]);
        break;
      case 'TrafficPolicy':
        // Its targets are Services of its own namespace; which policy holds a Service can move between them.
        this.applyPolicy(kind, key, obj, del);
        this.touchNamespace(namespace, ['Service']);
        break;
      case 'HTTPRoute':
      case 'GRPCRoute':
        this.applyPolicy(kind, key, obj, del);
        this.touch('Route', [`${kind}/${key}`]);
        break;
    }
    this.gen++;
    const types = also.length > 0 ? [...new Set([...AFFECTS[kind], ...also])] : AFFECTS[kind];
    for (const t of types) this.typeGens[t]++;
    const change: ModelChange = { kind, types, status: AFFECTS_STATUS.has(kind) };
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.log.error({ err: String(err) }, 'bug: a model listener threw');
      }
    }
  }

  /**
   * Returns whether a Waypoint this pod belongs (or belonged) to started or
   * stopped serving: then the policies of its namespace are dirtied, since
   * who enforces their Service targets follows `waypointState`.
   */
  private applyPod(key: string, pod: V1Pod, del: boolean): boolean {
    const old = this.pods.get(key);
    const oldNode = old?.spec?.nodeName;
    if (oldNode) this.podsByNode.get(oldNode)?.delete(key);
    const waypoints = [...new Set([waypointOfPod(old), del ? undefined : waypointOfPod(pod)])].filter((w): w is string => w !== undefined);
    const servingBefore = waypoints.map((w) => this.waypointServing(w));
    const oldWaypoint = waypointOfPod(old);
    if (oldWaypoint) this.podsByWaypoint.get(oldWaypoint)?.delete(key);
    put(this.pods, key, pod, del);
    const node = pod.spec?.nodeName;
    if (!del && node) {
      let set = this.podsByNode.get(node);
      if (!set) this.podsByNode.set(node, (set = new Set()));
      set.add(key);
    }
    const waypoint = del ? undefined : waypointOfPod(pod);
    if (waypoint) {
      let set = this.podsByWaypoint.get(waypoint);
      if (!set) this.podsByWaypoint.set(waypoint, (set = new Set()));
      set.add(key);
    }
    if (oldWaypoint && this.podsByWaypoint.get(oldWaypoint)?.size === 0) this.podsByWaypoint.delete(oldWaypoint);
    const flipped = waypoints.filter((w, i) => this.waypointServing(w) !== servingBefore[i]);
    for (const w of flipped) this.touchNamespace(w.slice(0, w.indexOf('/')), ['AuthorizationPolicy']);
    return flipped.length > 0;
  }

  /** Whether any pod of the Waypoint `<namespace>/<name>` is ready (whether or not the Waypoint itself exists). */
  private waypointServing(key: string): boolean {
    for (const p of this.podsByWaypoint.get(key) ?? []) {
      const pod = this.pods.get(p);
      if (pod && isReadyPod(pod)) return true;
    }
    return false;
  }

  private applySlice(key: string, slice: V1EndpointSlice, del: boolean): void {
    const serviceOf = (s: V1EndpointSlice | undefined) => {
      const svc = s?.metadata?.labels?.[SERVICE_NAME_LABEL];
      return svc ? `${s!.metadata?.namespace ?? 'default'}/${svc}` : undefined;
    };
    const before = serviceOf(this.slices.get(key));
    put(this.slices, key, slice, del);
    const after = del ? undefined : serviceOf(slice);
    if (before) this.slicesByService.get(before)?.delete(key);
    if (after) {
      let slices = this.slicesByService.get(after);
      if (!slices) this.slicesByService.set(after, (slices = new Map()));
      slices.set(key, slice);
    }
    this.touch('Service', [before, after].filter((k): k is string => k !== undefined));
  }

  /** Marks source objects of `type` to be rebuilt. */
  private touch(type: ResourceType, keys: Iterable<string>): void {
    const dirty = this.built[type].dirty;
    if (dirty === 'all') return;
    for (const k of keys) dirty.add(k);
  }

  /**
   * Marks every route to be rebuilt: its parents and backends may be Services
   * of any namespace (a consumer route's parent is in another), and routes
   * are few next to pods, so a Service change re-resolves them all.
   */
  private touchRoutes(): void {
    this.touch('Route', this.sourceKeys('Route'));
  }

  /** Marks every source object of `types` in `namespace` to be rebuilt. */
  private touchNamespace(namespace: string, types: readonly ResourceType[]): void {
    for (const t of types) this.touch(t, [...this.sourceKeys(t)].filter((k) => k.startsWith(`${namespace}/`)));
  }

  /** The keys of the source objects resources of `type` are built from. */
  private sourceKeys(type: ResourceType): Iterable<string> {
    switch (type) {
      case 'Node':
        return this.nodes.keys();
      case 'Workload':
        return this.pods.keys();
      case 'Service':
        return this.services.keys();
      case 'AuthorizationPolicy':
        return this.authorizationPolicies.keys();
      case 'PeerAuthentication':
        return this.peerAuthentications.keys();
      case 'Route':
        // `<kind>/<namespace>/<name>`: an HTTPRoute and a GRPCRoute may share a name.
        return ROUTE_KINDS.flatMap((k) => [...this.routeBook(k).keys()].map((key) => `${k}/${key}`));
    }
  }

  private applyPolicy(kind: BookKind, key: string, obj: RawObject, del: boolean): void {
    const book = this.book(kind);
    if (del) {
      book.delete(key);
      return;
    }
    const outcome = book.upsert(key, obj);
    if (!outcome.accepted && outcome.firstReport) {
      this.log.warn(
        {
          code: 'AMBIT_ERR_RESOURCE_REJECTED',
          kind,
          resource: key,
          generation: obj.metadata?.generation,
          keptGeneration: outcome.keptGeneration ?? null,
          problems: formatFieldErrors(outcome.errors, 20),
        },
        outcome.keptGeneration !== undefined
          ? `${kind} ${key} rejected; its last accepted version (generation ${outcome.keptGeneration}) stays in force`
          : `${kind} ${key} rejected; it has no accepted version, so nothing of it is enforced`,
      );
    }
  }

  /** The book of a policy or route kind. */
  book(kind: BookKind): PolicyBook<unknown> {
    return {
      AuthorizationPolicy: this.authorizationPolicies,
      PeerAuthentication: this.peerAuthentications,
      TrafficPolicy: this.trafficPolicies,
      HTTPRoute: this.httpRoutes,
      GRPCRoute: this.grpcRoutes,
    }[kind];
  }

  routeBook(kind: RouteKindName): PolicyBook<CompiledRoute> {
    return kind === 'HTTPRoute' ? this.httpRoutes : this.grpcRoutes;
  }

  private readonly routeContext: RouteContext = {
    service: (namespace, name) => this.resources('Service').get(`${namespace}/${name}`),
    hasWaypoint: (ref) => this.waypoints.has(`${ref.namespace}/${ref.name}`),
  };

  /** Which parents accept a route and which references resolve, now: what is pushed and what its status says. */
  resolveRoute(route: CompiledRoute): RouteResolution {
    return resolveRoute(route, this.routeContext);
  }

  // ---- the pushed resources ----

  /**
   * The current resources of `type`, by resource name: a live map, patched in
   * place when a change touched the type (read it, do not keep it across
   * changes). A resource whose source objects no change touched stays the
   * same object.
   */
  resources<T extends ResourceType>(type: T): ReadonlyMap<string, ResourceMap[T]> {
    const b = this.built[type] as Built<T>;
    if (b.gen === this.typeGens[type]) return b.map;
    const keys = b.dirty === 'all' ? new Set([...b.names.keys(), ...this.sourceKeys(type)]) : b.dirty;
    b.dirty = new Set();
    for (const key of keys) {
      const old = b.names.get(key);
      if (old !== undefined) {
        b.map.delete(old);
        b.names.delete(key);
      }
      const r = this.buildOne(type, key);
      if (!r) continue;
      const name = resourceName(type, r);
      b.map.set(name, r);
      b.names.set(key, name);
    }
    b.gen = this.typeGens[type];
    return b.map;
  }

  /** The resource built from one source object, if it yields one. */
  private buildOne<T extends ResourceType>(type: T, key: string): ResourceMap[T] | undefined {
    switch (type) {
      case 'Node': {
        const node = this.nodes.get(key);
        const ip = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
        return node?.metadata?.name && ip ? ({ name: node.metadata.name, ip } as ResourceMap[T]) : undefined;
      }
      case 'Workload': {
        const pod = this.pods.get(key);
        return pod && (toWorkload(pod, this.namespaces.get(pod.metadata?.namespace ?? ''), this.trustDomain, this.waypointLookup) as ResourceMap[T] | undefined);
      }
      case 'Service': {
        const svc = this.services.get(key);
        if (!svc) return undefined;
        const slices = [...(this.slicesByService.get(key)?.values() ?? [])].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
        const policy = this.trafficPolicyBinding().inForce.get(key);
        const podUid = (ns: string, name: string) => this.pods.get(`${ns}/${name}`)?.metadata?.uid;
        const ns = this.namespaces.get(svc.metadata?.namespace ?? '');
        return toService(svc, slices, ns, this.waypointLookup, podUid, policy?.loadBalancer ?? DEFAULT_LOAD_BALANCER, policy?.l7 ?? null) as ResourceMap[T] | undefined;
      }
      case 'AuthorizationPolicy': {
        const p = this.authorizationPolicies.enforcedOf(key);
        return p && ({ ...p, nodeAgentServices: nodeAgentServices(this, p) } as ResourceMap[T]);
      }
      case 'PeerAuthentication':
        return this.peerAuthentications.enforcedOf(key) as ResourceMap[T] | undefined;
      case 'Route': {
        const slash = key.indexOf('/');
        const compiled = this.routeBook(key.slice(0, slash) as RouteKindName).enforcedOf(key.slice(slash + 1));
        return compiled && (this.resolveRoute(compiled).route as ResourceMap[T] | undefined);
      }
    }
    return undefined;
  }

  /** Which node agents need `r` (scope.ts). */
  scopeOf<T extends ResourceType>(type: T, r: ResourceMap[T]): Scope {
    return this.currentPlacement().scopeOf(type, r);
  }

  private currentPlacement(): Placement {
    const gens = `${this.typeGens.Workload}/${this.typeGens.Service}`;
    if (this.placement?.gens !== gens) this.placement = { gens, value: new Placement(this.resources('Workload'), this.resources('Service')) };
    return this.placement.value;
  }

  private readonly waypointLookup: WaypointLookup = (namespace, name) => {
    const wp = this.waypoints.get(`${namespace}/${name}`);
    if (!wp) return undefined;
    const f = (wp.spec as { for?: unknown } | undefined)?.for;
    return f === 'workload' || f === 'all' ? (f as WaypointFor) : 'service';
  };

  // ---- queries ----

  /** Whether a live pod running as `namespace/serviceAccount` is scheduled on `node`: the CA's authorization rule. */
  hasServiceAccountOnNode(node: string, namespace: string, serviceAccount: string): boolean {
    for (const key of this.podsByNode.get(node) ?? []) {
      const pod = this.pods.get(key);
      if (pod && isLiveWorkloadPod(pod) && pod.metadata?.namespace === namespace && podServiceAccount(pod) === serviceAccount) return true;
    }
    return false;
  }

  /** A pod's uid, node and the Waypoint it serves (its `ambit.dev/waypoint` label), for authenticating agents and waypoints by their pod-bound token. */
  pod(namespace: string, name: string): { uid: string; node: string; waypoint?: string } | undefined {
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) return undefined;
    const waypoint = p.metadata?.labels?.[WAYPOINT_POD_LABEL];
    return { uid: p.metadata?.uid ?? '', node: p.spec?.nodeName ?? '', ...(waypoint ? { waypoint } : {}) };
  }

  /** Whether a Waypoint `namespace/name` exists. */
  hasWaypoint(namespace: string, name: string): boolean {
    return this.waypoints.has(`${namespace}/${name}`);
  }

  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }

  /** The waypoint a Service's traffic goes through, if any. */
  serviceWaypoint(namespace: string, name: string): { namespace: string; name: string } | null {
    const svc = this.services.get(`${namespace}/${name}`);
    return svc ? serviceWaypoint(svc as { metadata?: { namespace?: string; labels?: Record<string, string> } }, this.namespaces.get(namespace), this.waypointLookup) : null;
  }

  /**
   * Whether a Waypoint exists and whether its proxies serve traffic: the one
   * switch between node-agent and waypoint enforcement of Service-targeted
   * policy (see enforcement.ts). 'serving' once at least one of its pods
   * (label `ambit.dev/waypoint=<name>`, same namespace) is ready with an IP;
   * a pod change that flips this dirties the AuthorizationPolicy type
   * (`applyPod`), and a Waypoint change does too (kinds.ts), so the agents
   * and the policies' status hear of it.
   */
  waypointState(ref: WaypointRef): WaypointState {
    const key = `${ref.namespace}/${ref.name}`;
    if (!this.waypoints.has(key)) return 'missing';
    return this.waypointServing(key) ? 'serving' : 'not-running';
  }

  /** Every Waypoint, as its object was last seen (for the controller that runs them). */
  waypointObjects(): RawObject[] {
    return [...this.waypoints.values()];
  }

  /** The pods labelled `ambit.dev/waypoint=<name>` in `namespace`, ready or not. */
  waypointPods(namespace: string, name: string): V1Pod[] {
    return [...(this.podsByWaypoint.get(`${namespace}/${name}`) ?? [])].flatMap((k) => this.pods.get(k) ?? []);
  }

  workloadsByUid(): ReadonlyMap<string, Workload> {
    return this.resources('Workload');
  }

  workloadsIn(namespace: string): readonly Workload[] {
    return this.currentPlacement().workloadsIn(namespace);
  }

  pushedService(namespace: string, name: string): Service | undefined {
    return this.resources('Service').get(`${namespace}/${name}`);
  }

  namespaceInMesh(namespace: string): boolean {
    return namespaceInMesh(this.namespaces.get(namespace));
  }

  /** Whether a Service exists. */
  hasService(namespace: string, name: string): boolean {
    return this.services.has(`${namespace}/${name}`);
  }

  /** Which TrafficPolicy is in force for each Service, and which Services each one lost to an older one. */
  trafficPolicyBinding(): TrafficPolicyBinding {
    // A TrafficPolicy change dirties the Service type, so its generation tells when to recompute.
    const gen = this.typeGens.Service;
    if (this.binding?.gen !== gen) this.binding = { gen, value: bindTrafficPolicies(this.trafficPolicies.enforced().values()) };
    return this.binding.value;
  }

  counts(): Record<string, number> {
    return {
      namespaces: this.namespaces.size,
      pods: this.pods.size,
      services: this.services.size,
      endpointSlices: this.slices.size,
      serviceAccounts: this.serviceAccounts.size,
      nodes: this.nodes.size,
      waypoints: this.waypoints.size,
      authorizationPolicies: this.authorizationPolicies.size,
      peerAuthentications: this.peerAuthentications.size,
      trafficPolicies: this.trafficPolicies.size,
      httpRoutes: this.httpRoutes.size,
      grpcRoutes: this.grpcRoutes.size,
      rejectedAuthorizationPolicies: this.authorizationPolicies.rejected,
      rejectedPeerAuthentications: this.peerAuthentications.rejected,
      rejectedTrafficPolicies: this.trafficPolicies.rejected,
      rejectedHTTPRoutes: this.httpRoutes.rejected,
      rejectedGRPCRoutes: this.grpcRoutes.rejected,
    };
  }

  /** The model as JSON, for /debug/model. */
  debug(): unknown {
    const rejected = (book: PolicyBook<unknown>) =>
      book
        .entriesList()
        .filter(([, e]) => e.errors.length > 0)
        .map(([key, e]) => ({ resource: key, generation: e.object.metadata?.generation, enforcedGeneration: e.good?.generation ?? null, problems: e.errors }));
    return {
      generation: this.gen,
      trustDomain: this.trustDomain,
      rootNamespace: this.rootNamespace,
      counts: this.counts(),
      observedResourceVersions: Object.fromEntries(this.observed),
      nodes: [...this.nodes.keys()].sort(),
      resources: Object.fromEntries(RESOURCE_TYPES.map((t) => [t, [...this.resources(t).values()]])),
      rejected: {
        AuthorizationPolicy: rejected(this.authorizationPolicies),
        PeerAuthentication: rejected(this.peerAuthentications),
        TrafficPolicy: rejected(this.trafficPolicies),
        HTTPRoute: rejected(this.httpRoutes),
        GRPCRoute: rejected(this.grpcRoutes),
      },
    };
  }
}

function put<T>(map: Map<string, T>, key: string, obj: T, del: boolean): void {
  if (del) map.delete(key);
  else map.set(key, obj);
}
