import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { InformerEvent } from '../../lib/k8s/informer.js';
import type { Logger } from '../../lib/log.js';
import { namespaceInMesh } from '../../lib/mesh/index.js';
import { RESOURCE_TYPES, resourceName, type ResourceMap, type ResourceType, type Service, type WaypointRef, type Workload } from '../../lib/xds/index.js';
import { nodeAgentServices, type EnforcementView, type WaypointState } from './enforcement.js';
import { AFFECTS, AFFECTS_STATUS, type PolicyKind, type WatchedKind } from './kinds.js';
import {
  authorizationPolicyBook,
  formatFieldErrors,
  peerAuthenticationBook,
  trafficPolicyBook,
  type CompiledAuthorizationPolicy,
  type PolicyBook,
  type RawObject,
} from './policies.js';
import { SERVICE_NAME_LABEL, toService } from './services.js';
import { DEFAULT_LOAD_BALANCER, bindTrafficPolicies, type CompiledTrafficPolicy, type TrafficPolicyBinding } from './traffic-policies.js';
import { isLiveWorkloadPod, podServiceAccount, serviceWaypoint, toWorkload, type WaypointFor, type WaypointLookup } from './workloads.js';

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

interface Built<T extends ResourceType> {
  gen: number;
  map: ReadonlyMap<string, ResourceMap[T]>;
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
  private readonly services = new Map<string, V1Service>();
  private readonly slices = new Map<string, V1EndpointSlice>();
  private readonly serviceAccounts = new Map<string, RawObject>();
  private readonly nodes = new Map<string, V1Node>();
  private readonly waypoints = new Map<string, RawObject>();
  readonly authorizationPolicies: PolicyBook<CompiledAuthorizationPolicy>;
  readonly peerAuthentications: PolicyBook<ResourceMap['PeerAuthentication']>;
  readonly trafficPolicies: PolicyBook<CompiledTrafficPolicy>;
  private binding: { gen: number; value: TrafficPolicyBinding } | undefined;
  private readonly typeGens = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, 1])) as Record<ResourceType, number>;
  private readonly built: { [T in ResourceType]?: Built<T> } = {};
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
    switch (kind) {
      case 'Namespace':
        put(this.namespaces, key, obj as V1Namespace, del);
        break;
      case 'Pod':
        this.applyPod(key, obj as V1Pod, del);
        break;
      case 'Service':
        put(this.services, key, obj as V1Service, del);
        break;
      case 'EndpointSlice':
        put(this.slices, key, obj as V1EndpointSlice, del);
        break;
      case 'ServiceAccount':
        put(this.serviceAccounts, key, obj, del);
        break;
      case 'Node':
        put(this.nodes, key, obj as V1Node, del);
        break;
      case 'Waypoint':
        put(this.waypoints, key, obj, del);
        break;
      case 'AuthorizationPolicy':
      case 'PeerAuthentication':
      case 'TrafficPolicy':
        this.applyPolicy(kind, key, obj, del);
        break;
    }
    this.gen++;
    const types = AFFECTS[kind];
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

  private applyPod(key: string, pod: V1Pod, del: boolean): void {
    const old = this.pods.get(key);
    const oldNode = old?.spec?.nodeName;
    if (oldNode) this.podsByNode.get(oldNode)?.delete(key);
    put(this.pods, key, pod, del);
    const node = pod.spec?.nodeName;
    if (!del && node) {
      let set = this.podsByNode.get(node);
      if (!set) this.podsByNode.set(node, (set = new Set()));
      set.add(key);
    }
  }

  private applyPolicy(kind: PolicyKind, key: string, obj: RawObject, del: boolean): void {
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

  /** The book of a policy kind. */
  book(kind: PolicyKind): PolicyBook<unknown> {
    return { AuthorizationPolicy: this.authorizationPolicies, PeerAuthentication: this.peerAuthentications, TrafficPolicy: this.trafficPolicies }[kind];
  }

  // ---- the pushed resources ----

  /** The current resources of `type`, by resource name. Rebuilt only when a change dirtied the type. */
  resources<T extends ResourceType>(type: T): ReadonlyMap<string, ResourceMap[T]> {
    const cached = this.built[type] as Built<T> | undefined;
    if (cached && cached.gen === this.typeGens[type]) return cached.map;
    const map = this.build(type);
    (this.built as Record<string, Built<T>>)[type] = { gen: this.typeGens[type], map };
    return map;
  }

  private build<T extends ResourceType>(type: T): Map<string, ResourceMap[T]> {
    const out = new Map<string, ResourceMap[T]>();
    const add = (r: ResourceMap[T]): void => {
      out.set(resourceName(type, r), r);
    };
    switch (type) {
      case 'Node':
        for (const node of this.nodes.values()) {
          const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
          if (node.metadata?.name && ip) add({ name: node.metadata.name, ip } as ResourceMap[T]);
        }
        break;
      case 'Workload':
        for (const pod of this.pods.values()) {
          const w = toWorkload(pod, this.namespaces.get(pod.metadata?.namespace ?? ''), this.trustDomain, this.waypointLookup);
          if (w) add(w as ResourceMap[T]);
        }
        break;
      case 'Service': {
        const byService = new Map<string, V1EndpointSlice[]>();
        for (const s of this.slices.values()) {
          const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
          if (!svc) continue;
          const k = `${s.metadata?.namespace ?? 'default'}/${svc}`;
          byService.set(k, [...(byService.get(k) ?? []), s]);
        }
        const sorted = (list: V1EndpointSlice[]) => list.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
        const { inForce } = this.trafficPolicyBinding();
        const podUid = (ns: string, name: string) => this.pods.get(`${ns}/${name}`)?.metadata?.uid;
        for (const [k, svc] of this.services) {
          const lb = inForce.get(k)?.loadBalancer ?? DEFAULT_LOAD_BALANCER;
          const r = toService(svc, sorted(byService.get(k) ?? []), this.namespaces.get(svc.metadata?.namespace ?? ''), this.waypointLookup, podUid, lb);
          if (r) add(r as ResourceMap[T]);
        }
        break;
      }
      case 'AuthorizationPolicy':
        for (const p of this.authorizationPolicies.enforced().values()) add({ ...p, nodeAgentServices: nodeAgentServices(this, p) } as ResourceMap[T]);
        break;
      case 'PeerAuthentication':
        for (const p of this.peerAuthentications.enforced().values()) add(p as ResourceMap[T]);
        break;
    }
    return out;
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

  /** A pod's uid and node, for authenticating agents by their pod-bound token. */
  pod(namespace: string, name: string): { uid: string; node: string } | undefined {
    const p = this.pods.get(`${namespace}/${name}`);
    return p ? { uid: p.metadata?.uid ?? '', node: p.spec?.nodeName ?? '' } : undefined;
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
   * policy (see enforcement.ts). Ambit does not run waypoint proxies yet, so
   * an existing Waypoint is 'not-running'; the change that runs them answers
   * 'serving' here once a Waypoint's proxies are ready, and that change
   * dirties the AuthorizationPolicy type (kinds.ts) so the agents hear of it.
   */
  waypointState(ref: WaypointRef): WaypointState {
    return this.waypoints.has(`${ref.namespace}/${ref.name}`) ? 'not-running' : 'missing';
  }

  workloadsByUid(): ReadonlyMap<string, Workload> {
    return this.resources('Workload');
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
      rejectedAuthorizationPolicies: this.authorizationPolicies.rejected,
      rejectedPeerAuthentications: this.peerAuthentications.rejected,
      rejectedTrafficPolicies: this.trafficPolicies.rejected,
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
      },
    };
  }
}

function put<T>(map: Map<string, T>, key: string, obj: T, del: boolean): void {
  if (del) map.delete(key);
  else map.set(key, obj);
}
