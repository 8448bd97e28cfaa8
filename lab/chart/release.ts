import type { KubeObject } from '../../lib/k8s/types.js';
import { isPlainObject } from '../apiserver/patch.js';
import { knownKey } from '../apiserver/strategic-merge.js';
import type { RenderedDocument } from './render.js';

/**
 * What helm does with a rendered chart, as pure functions over objects: which objects are the
 * chart's CRDs (its `crds/` folder: installed once, never upgraded nor deleted), which are
 * hooks (annotated `helm.sh/hook`: run at their event, not part of the release) and which are
 * the release's manifests; the order helm creates and deletes kinds in; which hooks run at
 * an event and in what order; what an upgrade changes. lab/supervisor/release.ts carries
 * them out against the lab's API server. The references are helm v3's pkg/releaseutil
 * (kind_sorter.go, manifest_sorter.go) and pkg/action (hooks.go, upgrade.go, uninstall.go).
 */

export const HOOK_ANNOTATION = 'helm.sh/hook';
export const HOOK_WEIGHT_ANNOTATION = 'helm.sh/hook-weight';
export const HOOK_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';
/** `keep`: helm leaves the object behind on uninstall (and when an upgrade drops it). */
export const RESOURCE_POLICY_ANNOTATION = 'helm.sh/resource-policy';

export const HOOK_EVENTS = ['pre-install', 'post-install', 'pre-delete', 'post-delete', 'pre-upgrade', 'post-upgrade', 'pre-rollback', 'post-rollback', 'test'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];
export type HookDeletePolicy = 'before-hook-creation' | 'hook-succeeded' | 'hook-failed';

/** A rendered release, as the lab stores it (its state folder's chart-release.json). */
export interface Release {
  /** From the chart's crds/ folders, in helm's order. */
  crds: KubeObject[];
  /** Everything else that is not a hook: what `helm install` creates and `helm uninstall` deletes. */
  manifests: KubeObject[];
  /** Objects annotated helm.sh/hook with known events. */
  hooks: KubeObject[];
}

/** What `helm template --include-crds --no-hooks` would print of it: the CRDs, then the manifests. */
export function releaseObjects(r: Release): KubeObject[] {
  return [...r.crds, ...r.manifests];
}

export interface Hook {
  object: KubeObject;
  events: HookEvent[];
  weight: number;
  deletePolicies: HookDeletePolicy[];
}

/** helm's InstallOrder (pkg/releaseutil/kind_sorter.go); kinds it does not list come after, by kind. */
export const INSTALL_ORDER: readonly string[] = [
  'PriorityClass', 'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'SecretList',
  'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding',
  'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
];

/** helm's UninstallOrder: workloads and Services first, then RBAC, then what they used. */
export const UNINSTALL_ORDER: readonly string[] = [
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'Ingress', 'IngressClass', 'Service', 'CronJob', 'Job', 'StatefulSet',
  'HorizontalPodAutoscaler', 'Deployment', 'ReplicaSet', 'ReplicationController', 'Pod', 'DaemonSet', 'RoleBindingList', 'RoleBinding', 'RoleList', 'Role',
  'ClusterRoleBindingList', 'ClusterRoleBinding', 'ClusterRoleList', 'ClusterRole', 'CustomResourceDefinition', 'PersistentVolumeClaim', 'PersistentVolume',
  'StorageClass', 'ConfigMap', 'SecretList', 'Secret', 'ServiceAccount', 'PodDisruptionBudget', 'PodSecurityPolicy', 'LimitRange', 'ResourceQuota', 'NetworkPolicy',
  'Namespace', 'PriorityClass',
];

/** Sorts by kind in `order` (unknown kinds last, by kind), then by name, as helm's kindSorter. */
export function sortByKind(objects: readonly KubeObject[], order: readonly string[]): KubeObject[] {
  return [...objects].sort((a, b) => kindCompare(a.kind, b.kind, order) || compare(a.metadata.name, b.metadata.name));
}

function kindCompare(a: string, b: string, order: readonly string[]): number {
  const ia = order.indexOf(a);
  const ib = order.indexOf(b);
  if (ia === -1 && ib === -1) return compare(a, b);
  if (ia === -1) return 1;
  if (ib === -1) return -1;
  return ia - ib;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The API group of an object's apiVersion (`apps/v1`: apps; `v1`: the core group, ''). */
const apiGroup = (o: KubeObject): string => (o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '');

/** An object's identity in a release: group, kind, namespace and name (helm's resource info). */
export function objectKey(o: KubeObject): string {
  return `${apiGroup(o)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

const annotation = (o: KubeObject, name: string): string | undefined => o.metadata.annotations?.[name];
const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);

/**
 * Sorts `helm template` output into a release, as helm's manifest sorter: CRDs come from the
 * crds/ folder of the chart (or of a subchart), hooks carry the hook annotation; a hook
 * naming an event helm does not know is skipped, as helm skips it.
 */
export function splitRelease(docs: readonly RenderedDocument[]): Release {
  const release: Release = { crds: [], manifests: [], hooks: [] };
  for (const { source, object } of docs) {
    if (/^[^/]+\/(charts\/[^/]+\/)*crds\//.test(source)) release.crds.push(object);
    else if (annotation(object, HOOK_ANNOTATION) === undefined) release.manifests.push(object);
    else if (list(annotation(object, HOOK_ANNOTATION)).every((e) => (HOOK_EVENTS as readonly string[]).includes(e))) release.hooks.push(object);
  }
  return release;
}

/** The hook annotations of an object: its events, weight (helm's Atoi: 0 when not a number) and delete policies (before-hook-creation by default). */
export function parseHook(object: KubeObject): Hook {
  const weight = annotation(object, HOOK_WEIGHT_ANNOTATION)?.trim() ?? '';
  const policies = list(annotation(object, HOOK_DELETE_POLICY_ANNOTATION)) as HookDeletePolicy[];
  return {
    object,
    events: list(annotation(object, HOOK_ANNOTATION)) as HookEvent[],
    weight: /^[+-]?\d+$/.test(weight) ? Number(weight) : 0,
    deletePolicies: policies.length > 0 ? policies : ['before-hook-creation'],
  };
}

/** The hooks that run at `event`, in helm's order: by weight, then kind (install order), then name. */
export function hooksFor(hooks: readonly KubeObject[], event: HookEvent): Hook[] {
  return hooks
    .map(parseHook)
    .filter((h) => h.events.includes(event))
    .sort((a, b) => a.weight - b.weight || kindCompare(a.object.kind, b.object.kind, INSTALL_ORDER) || compare(a.object.metadata.name, b.object.metadata.name));
}

/** Whether helm leaves the object behind when it leaves the release. */
export function keptByPolicy(o: KubeObject): boolean {
  return annotation(o, RESOURCE_POLICY_ANNOTATION)?.trim().toLowerCase() === 'keep';
}

export interface UpgradePlan {
  /** The new release's manifests, in install order: each created, or updated where it exists. */
  apply: KubeObject[];
  /** Manifests of the previous release the new one lacks, in uninstall order. */
  remove: KubeObject[];
  /** Dropped from the release but annotated helm.sh/resource-policy: keep. */
  kept: KubeObject[];
}

/** What `helm upgrade` does to the release's manifests (CRDs are not among them: helm never upgrades crds/). */
export function planUpgrade(previous: Release, next: Release): UpgradePlan {
  const wanted = new Set(next.manifests.map(objectKey));
  const dropped = previous.manifests.filter((o) => !wanted.has(objectKey(o)));
  return { apply: sortByKind(next.manifests, INSTALL_ORDER), remove: sortByKind(dropped.filter((o) => !keptByPolicy(o)), UNINSTALL_ORDER), kept: dropped.filter(keptByPolicy) };
}

/**
 * The object an upgrade leaves in the cluster: the live one patched with helm's three-way
 * merge, from the previous manifest (`original`) to the new one (`modified`) over the live
 * object (`current`): fields the new manifest sets are set, fields the previous manifest had
 * and the new one dropped are removed, and fields neither manifest names (status, a Service's
 * clusterIP, an annotation `kubectl rollout restart` added) stay. For the built-in kinds helm
 * makes a strategic merge patch (apimachinery's CreateThreeWayMergePatch): lists with a merge
 * key (containers, env and volumes by name, ports by port, ...) merge element by element, so
 * an env variable `kubectl set env` added stays; other lists are replaced whole. Custom
 * resources get a JSON merge patch (CreateThreeWayJSONMergePatch): every list replaced.
 */
export function upgradedObject(original: KubeObject | undefined, modified: KubeObject, current: KubeObject): KubeObject {
  return threeWay(original ?? {}, modified, current, BUILT_IN_GROUPS.has(apiGroup(modified))) as KubeObject;
}

/** API groups whose kinds helm's client knows (client-go's scheme, apiextensions added): patched strategically. */
const BUILT_IN_GROUPS = new Set(['', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apps', 'autoscaling', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'networking.k8s.io', 'node.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'scheduling.k8s.io', 'storage.k8s.io']);

type Json = Record<string, unknown>;

function threeWay(original: unknown, modified: unknown, current: unknown, strategic: boolean, field?: string): unknown {
  if (isPlainObject(modified)) {
    const orig = isPlainObject(original) ? original : {};
    const out: Json = isPlainObject(current) ? { ...current } : {};
    for (const k of Object.keys(orig)) if (!(k in modified)) delete out[k];
    for (const [k, v] of Object.entries(modified)) {
      if (v === null) delete out[k];
      else out[k] = threeWay(orig[k], v, out[k], strategic, k);
    }
    return out;
  }
  const key = strategic && field !== undefined && Array.isArray(modified) ? knownKey(field, modified) : undefined;
  if (key === undefined || !Array.isArray(modified)) return modified;
  // By merge key: the new manifest's elements in its order, each merged three-way with its
  // previous and live twins; then live elements neither manifest has (someone else's).
  const id = (e: unknown): string | undefined => (isPlainObject(e) ? JSON.stringify(e[key]) : undefined);
  const find = (list: unknown, e: unknown) => (Array.isArray(list) ? list.find((x) => id(x) === id(e)) : undefined);
  const named = new Set([...modified, ...(Array.isArray(original) ? original : [])].map(id));
  const others = Array.isArray(current) ? current.filter((c) => !named.has(id(c))) : [];
  return [...modified.map((m) => threeWay(find(original, m), m, find(current, m), strategic)), ...others];
}
