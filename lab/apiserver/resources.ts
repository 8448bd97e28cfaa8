/**
 * The resource types the lab API server serves. This table is the single
 * source for discovery documents, URL routing and the store's per-type rules,
 * so adding a type here is all it takes to serve it. The few endpoints that
 * store nothing (CREATE_ONLY, below) are listed apart; a type stored as
 * another (events.k8s.io Events as core ones) says so in views.ts.
 */

export interface ResourceType {
  /** API group; '' is the legacy core group served under /api/v1. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** URL segment, lower-case plural (`pods`). */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /**
   * Whether the type has a `status` subresource. For those, a write to the
   * main resource keeps the stored status and a write to `/status` changes
   * only the status, as a real API server does.
   */
  readonly hasStatus: boolean;
}

type Def = [group: string, version: string, kind: string, plural: string, namespaced: boolean, shortNames: string[], hasStatus: boolean];

const DEFS: readonly Def[] = [
  ['', 'v1', 'Namespace', 'namespaces', false, ['ns'], true],
  ['', 'v1', 'Pod', 'pods', true, ['po'], true],
  ['', 'v1', 'Service', 'services', true, ['svc'], true],
  ['', 'v1', 'Endpoints', 'endpoints', true, ['ep'], false],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa'], false],
  ['', 'v1', 'Node', 'nodes', false, ['no'], true],
  ['', 'v1', 'Secret', 'secrets', true, [], false],
  ['', 'v1', 'ConfigMap', 'configmaps', true, ['cm'], false],
  ['', 'v1', 'Event', 'events', true, ['ev'], false],
  // The same objects as core Events, in the shape controllers write (views.ts, events-v1.ts).
  ['events.k8s.io', 'v1', 'Event', 'events', true, ['ev'], false],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, [], false],
  ['apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], true],
  ['apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], true],
  ['apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], true],
  // A chart's hooks (the uninstall Job); the lab's Job controller runs them (workloads/job.ts).
  ['batch', 'v1', 'Job', 'jobs', true, [], true],
  ['coordination.k8s.io', 'v1', 'Lease', 'leases', true, [], false],
  // What a Helm chart installs beside its workloads (`lab up --chart`): RBAC, which the
  // server enforces for service-account tokens, and objects the lab only stores.
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, [], false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, [], false],
  ['rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, [], false],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, [], false],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], true],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], true],
  ['ambit.dev', 'v1alpha1', 'Waypoint', 'waypoints', true, ['wp'], true],
  ['ambit.dev', 'v1alpha1', 'AuthorizationPolicy', 'authorizationpolicies', true, ['ap'], true],
  ['ambit.dev', 'v1alpha1', 'PeerAuthentication', 'peerauthentications', true, ['pa'], true],
  ['ambit.dev', 'v1alpha1', 'TrafficPolicy', 'trafficpolicies', true, ['tp'], true],
  ['gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes', true, [], true],
  ['gateway.networking.k8s.io', 'v1', 'GRPCRoute', 'grpcroutes', true, [], true],
];

export const RESOURCES: readonly ResourceType[] = Object.freeze(
  DEFS.map(([group, version, kind, plural, namespaced, shortNames, hasStatus]) =>
    Object.freeze({ group, version, kind, plural, singular: kind.toLowerCase(), namespaced, shortNames: Object.freeze(shortNames), hasStatus }),
  ),
);

/**
 * An endpoint that only takes a POST and answers with a computed object,
 * never stored: a review (TokenReview), or a subresource of a stored type
 * that mints something (`serviceaccounts/{name}/token`). Discovery lists it
 * with the `create` verb only; routes.ts routes it and tokens.ts answers it.
 */
export interface CreateOnlyEndpoint {
  /** The API group and version whose discovery document lists it (and whose URL serves it). */
  readonly group: string;
  readonly version: string;
  /** The discovery name: a plural, or `{plural}/{subresource}` of a stored type. */
  readonly name: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  /** The kind of its request and response bodies. */
  readonly kind: string;
  /** The group and version of that kind when they differ from the URL's, as for `serviceaccounts/token`. */
  readonly kindGroupVersion?: { readonly group: string; readonly version: string };
}

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

export const CREATE_ONLY: readonly CreateOnlyEndpoint[] = Object.freeze([
  Object.freeze({ group: '', version: 'v1', name: 'serviceaccounts/token', singularName: '', namespaced: true, kind: 'TokenRequest', kindGroupVersion: Object.freeze({ group: AUTHENTICATION_GROUP, version: 'v1' }) }),
  Object.freeze({ group: AUTHENTICATION_GROUP, version: 'v1', name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview' }),
]);

/** `v1` for the core group, `group/version` otherwise. */
export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The type served at /api/v1/{plural} or /apis/{group}/{version}/{plural}. */
export function findByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The type a manifest names with `apiVersion` and `kind`. */
export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/**
 * Resolves what a person types: `pods`, `pod`, `po`, `Pod`, or a
 * group-qualified `httproutes.gateway.networking.k8s.io`.
 */
export function resolveResource(name: string): ResourceType | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const head = dot === -1 ? lower : lower.slice(0, dot);
  const group = dot === -1 ? undefined : lower.slice(dot + 1);
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.plural === head || r.singular === head || r.shortNames.includes(head)),
  );
}

/** The API groups other than core, in the order discovery lists them. */
export function apiGroups(): { group: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const r of [...RESOURCES, ...CREATE_ONLY]) {
    if (r.group === '') continue;
    const versions = groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    groups.set(r.group, versions);
  }
  return [...groups].map(([group, versions]) => ({ group, versions }));
}
