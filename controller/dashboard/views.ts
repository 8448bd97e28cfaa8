import type { MeshModel } from '../model/index.js';
import { currentConditions, ROUTE_KINDS, type Condition, type RawObject } from '../model/index.js';
import type { CompiledAuthorizationPolicy } from '../model/policies.js';
import type { CompiledTrafficPolicy } from '../model/traffic-policies.js';
import { POLICY_KINDS } from '../model/kinds.js';

/**
 * The read-only pages of the dashboard, as JSON built from the model: what
 * the controller already holds (the objects as last seen, with the status it
 * wrote) and what it pushes (Services with endpoints and waypoints). Nothing
 * here asks the API server.
 */

export interface RouteView {
  kind: string;
  namespace: string;
  name: string;
  resourceVersion: string | undefined;
  generation: number | undefined;
  /** The Services it attaches to (GAMMA parentRefs), as `<namespace>/<name>`. */
  parents: string[];
  rules: { index: number; matches: unknown; backends: { name: string; namespace: string; port: number | undefined; weight: number }[] }[];
  /** Per parent, the conditions the route's status carries. */
  status: { parent: string; conditions: Condition[] }[];
  problems: string[];
}

export interface PolicyView {
  kind: string;
  namespace: string;
  name: string;
  generation: number | undefined;
  /** Whether its latest version is the one enforced. */
  accepted: boolean;
  /** How it reaches Services and workloads: `targetRefs: Service/web`, `selector: app=web`, `namespace`, `mesh-wide`. */
  appliesTo: string;
  action?: string;
  conditions: Condition[];
  problems: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

interface RawParentRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
}
interface RawBackendRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

/** A route as its object says (weights as written, defaults filled as Gateway API defines them: weight 1). */
export function routeView(kind: string, obj: RawObject, problems: string[]): RouteView {
  const namespace = obj.metadata?.namespace ?? 'default';
  const spec = (obj.spec ?? {}) as { parentRefs?: RawParentRef[]; rules?: { matches?: unknown; backendRefs?: RawBackendRef[] }[] };
  const parents = (spec.parentRefs ?? []).filter((p) => (p.kind ?? 'Gateway') === 'Service' && (p.group ?? '') === '' && p.name).map((p) => `${p.namespace ?? namespace}/${p.name}`);
  const rules = (spec.rules ?? []).map((r, index) => ({
    index,
    matches: r.matches ?? [],
    backends: (r.backendRefs ?? []).map((b) => ({ name: b.name ?? '', namespace: b.namespace ?? namespace, port: b.port, weight: typeof b.weight === 'number' ? b.weight : 1 })),
  }));
  const st = (obj.status ?? {}) as { parents?: { parentRef?: RawParentRef; conditions?: Condition[] }[] };
  const status = (st.parents ?? []).map((p) => ({ parent: `${p.parentRef?.kind ?? 'Gateway'}/${p.parentRef?.namespace ?? namespace}/${p.parentRef?.name ?? ''}`, conditions: p.conditions ?? [] }));
  return { kind, namespace, name: obj.metadata?.name ?? '', resourceVersion: obj.metadata?.resourceVersion, generation: obj.metadata?.generation, parents, rules, status, problems };
}

export function routes(model: MeshModel): RouteView[] {
  return ROUTE_KINDS.flatMap((kind) => model.routeBook(kind).entriesList().map(([, e]) => routeView(kind, e.object, e.errors.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)))));
}

export function findRoute(model: MeshModel, kind: string, namespace: string, name: string): RawObject | undefined {
  if (!(ROUTE_KINDS as readonly string[]).includes(kind)) return undefined;
  return model.routeBook(kind as (typeof ROUTE_KINDS)[number]).entriesList().find(([key]) => key === `${namespace}/${name}`)?.[1].object;
}

function appliesTo(kind: string, obj: RawObject, rootNamespace: string): string {
  const spec = (obj.spec ?? {}) as { targetRefs?: { kind?: string; name?: string }[]; selector?: { matchLabels?: Record<string, string> } };
  if (spec.targetRefs?.length) return `targetRefs: ${spec.targetRefs.map((t) => `${t.kind}/${t.name}`).join(', ')}`;
  const labels = Object.entries(spec.selector?.matchLabels ?? {});
  if (labels.length) return `selector: ${labels.map(([k, v]) => `${k}=${v}`).join(',')}`;
  if (kind === 'TrafficPolicy') return 'nothing (no targetRefs)';
  return obj.metadata?.namespace === rootNamespace ? 'mesh-wide' : `namespace ${obj.metadata?.namespace}`;
}

export function policies(model: MeshModel): PolicyView[] {
  return POLICY_KINDS.flatMap((kind) =>
    model
      .book(kind)
      .entriesList()
      .map(([, e]): PolicyView => {
        const spec = (e.object.spec ?? {}) as { action?: unknown };
        return {
          kind,
          namespace: e.object.metadata?.namespace ?? '',
          name: e.object.metadata?.name ?? '',
          generation: e.object.metadata?.generation,
          accepted: e.errors.length === 0,
          appliesTo: appliesTo(kind, e.object, model.rootNamespace),
          ...(kind === 'AuthorizationPolicy' ? { action: str(spec.action) ?? 'ALLOW' } : {}),
          conditions: currentConditions(e.object),
          problems: e.errors.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)),
        };
      }),
  );
}

export interface ServiceSummary {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: number[];
  waypoint: string | null;
  endpoints: number;
  readyEndpoints: number;
  routes: number;
  trafficPolicy: string | null;
}

export function services(model: MeshModel): ServiceSummary[] {
  const all = routes(model);
  const binding = model.trafficPolicyBinding().inForce;
  return [...model.resources('Service').values()]
    .map((s) => {
      const key = `${s.namespace}/${s.name}`;
      const tp = binding.get(key);
      return {
        namespace: s.namespace,
        name: s.name,
        clusterIP: s.clusterIp,
        ports: s.ports.map((p) => p.port),
        waypoint: s.waypoint ? `${s.waypoint.namespace}/${s.waypoint.name}` : null,
        endpoints: s.endpoints.length,
        readyEndpoints: s.endpoints.filter((e) => e.ready).length,
        routes: all.filter((r) => r.parents.includes(key)).length,
        trafficPolicy: tp ? `${tp.namespace}/${tp.name}` : null,
      };
    })
    .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}

/** Whether an AuthorizationPolicy can apply to a Service: it targets it, or its namespace or the mesh (selector policies may apply to some of its endpoints). */
function policyReaches(p: CompiledAuthorizationPolicy, namespace: string, name: string, rootNamespace: string): boolean {
  if (p.scope === 'MESH') return true;
  if (p.scope === 'TARGET_REFS') return p.namespace === namespace && p.targetRefs.some((t) => t.kind === 'Service' && t.name === name);
  return p.namespace === namespace || p.namespace === rootNamespace;
}

export function serviceDetail(model: MeshModel, namespace: string, name: string): unknown {
  const s = model.resources('Service').get(`${namespace}/${name}`);
  if (!s) return undefined;
  const key = `${namespace}/${name}`;
  const workloads = model.workloadsByUid();
  const tp: CompiledTrafficPolicy | undefined = model.trafficPolicyBinding().inForce.get(key);
  const authz = [...model.authorizationPolicies.enforced().values()].filter((p) => policyReaches(p, namespace, name, model.rootNamespace)).map((p) => `${p.namespace}/${p.name}`);
  return {
    namespace,
    name,
    hostname: s.hostname,
    clusterIP: s.clusterIp,
    ports: s.ports,
    waypoint: s.waypoint ? { namespace: s.waypoint.namespace, name: s.waypoint.name, state: model.waypointState(s.waypoint) } : null,
    loadBalancer: s.lbPolicy,
    endpoints: s.endpoints.map((e) => {
      const w = workloads.get(e.workloadUid);
      return { address: e.address, node: e.node, ready: e.ready, pod: w ? `${w.namespace}/${w.name}` : null, identity: w?.identity ?? null, ports: e.ports };
    }),
    routes: routes(model).filter((r) => r.parents.includes(key)),
    trafficPolicy: tp ? { namespace: tp.namespace, name: tp.name, loadBalancer: tp.loadBalancer, waypointFields: tp.waypointFields, l7: tp.l7 } : null,
    policies: policies(model).filter((p) => p.kind !== 'TrafficPolicy' && (p.kind === 'PeerAuthentication' ? p.namespace === namespace || p.namespace === model.rootNamespace : authz.includes(`${p.namespace}/${p.name}`))),
  };
}
