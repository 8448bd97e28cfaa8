import { AmbitError } from '../../lib/errors.js';
import type { KubeObject, OwnerReference } from '../../lib/k8s/types.js';
import { randomString, stableUid, templateHash, type Random } from './names.js';
import { isPodReady } from './pods.js';
import { fenceposts, scaledValue, type IntOrPercent } from './rollout.js';

/**
 * What the Deployment and ReplicaSet controllers would do for one
 * Deployment, computed in one step: the pods to create and to delete so that
 * exactly `replicas` pods of the current template exist.
 *
 * Pods belong to the ReplicaSet `<deployment>-<template hash>` (which the lab
 * need not store; the plan includes it for consumers that walk owner chains),
 * and carry the `pod-template-hash` label, as in Kubernetes.
 */

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Generated names keep 5 characters of a 63-character label for the random suffix. */
const MAX_GENERATED_BASE = 58;
const MAX_NAME_ATTEMPTS = 100;

export interface DeploymentPlanOptions {
  /** Source for the 5-character name suffixes; default Math.random. */
  random?: Random;
  /** Other pod names taken in the Deployment's namespace (bare Pods, say), besides those in `pods`. */
  takenNames?: Iterable<string>;
}

export interface DeploymentPlan {
  templateHash: string;
  replicaSetName: string;
  /** The current ReplicaSet, owned by the Deployment; `spec.replicas` is the desired count. */
  replicaSet: KubeObject;
  /**
   * RollingUpdate: start `create`, then delete old pods once the new ones are
   * ready. Recreate: delete first, then create.
   */
  strategy: 'RollingUpdate' | 'Recreate';
  create: KubeObject[];
  /** Excess pods of the current template and every pod of an older one. */
  delete: KubeObject[];
  /** Pods of the current template that stay. */
  keep: KubeObject[];
}

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The template hash a pod of `deployment` carries, if the pod is one of its own. */
function ownedHash(pod: KubeObject, namespace: string, deployment: string): string | undefined {
  if ((pod.metadata.namespace ?? 'default') !== namespace) return undefined;
  const hash = pod.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
  if (!hash) return undefined;
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller === true);
  return owner?.kind === 'ReplicaSet' && owner.name === `${deployment}-${hash}` ? hash : undefined;
}

/**
 * Scale-down order, as the ReplicaSet controller ranks pods: unscheduled
 * before scheduled, not ready before ready, newer before older; names break
 * ties so the choice is deterministic.
 */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const scheduled = (p: KubeObject): number => (rec(p['spec'])?.['nodeName'] ? 1 : 0);
  const ready = (p: KubeObject): number => (isPodReady(p) ? 1 : 0);
  const created = (p: KubeObject): string => p.metadata.creationTimestamp ?? '';
  return (
    scheduled(a) - scheduled(b) ||
    ready(a) - ready(b) ||
    (created(a) > created(b) ? -1 : created(a) < created(b) ? 1 : 0) ||
    (a.metadata.name > b.metadata.name ? -1 : a.metadata.name < b.metadata.name ? 1 : 0)
  );
}

function bad(deploy: KubeObject, message: string): AmbitError {
  return new AmbitError('AMBIT_ERR_MANIFEST', `Deployment ${deploy.metadata.namespace ?? 'default'}/${deploy.metadata.name}: ${message}`);
}

export function planDeployment(deploy: KubeObject, pods: readonly KubeObject[], options: DeploymentPlanOptions = {}): DeploymentPlan {
  const random = options.random ?? Math.random;
  const namespace = deploy.metadata.namespace ?? 'default';
  const name = deploy.metadata.name;
  const spec = rec(deploy['spec']);
  const template = rec(spec?.['template']);
  const podSpec = rec(template?.['spec']);
  if (!spec || !template || !podSpec) throw bad(deploy, 'spec.template.spec is required');
  const replicas = spec['replicas'] ?? 1;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw bad(deploy, 'spec.replicas must be an integer >= 0');
  const strategyType = rec(spec['strategy'])?.['type'] === 'Recreate' ? 'Recreate' : 'RollingUpdate';

  const hash = templateHash(template);
  const rsName = `${name}-${hash}`;
  const deployUid = deploy.metadata.uid ?? stableUid('Deployment', namespace, name);
  const rsUid = stableUid('ReplicaSet', namespace, rsName, deployUid);
  const templateMeta = rec(template['metadata']) ?? {};
  const labels = { ...(rec(templateMeta['labels']) as Record<string, string> | undefined), [POD_TEMPLATE_HASH_LABEL]: hash };
  const annotations = rec(templateMeta['annotations']) as Record<string, string> | undefined;

  const current: KubeObject[] = [];
  const old: KubeObject[] = [];
  const taken = new Set<string>(options.takenNames ?? []);
  for (const pod of pods) {
    if ((pod.metadata.namespace ?? 'default') === namespace) taken.add(pod.metadata.name);
    const podHash = ownedHash(pod, namespace, name);
    if (podHash === undefined || pod.metadata.deletionTimestamp) continue; // not ours, or already going
    (podHash === hash ? current : old).push(pod);
  }

  const ordered = [...current].sort(deletionOrder);
  const excess = Math.max(0, current.length - replicas);
  const remove = [...ordered.slice(0, excess), ...old];
  const keep = current.filter((p) => !ordered.slice(0, excess).includes(p));

  const owner: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true, blockOwnerDeletion: true };
  const base = `${rsName}-`.slice(0, MAX_GENERATED_BASE);
  const create: KubeObject[] = [];
  for (let i = keep.length; i < replicas; i++) {
    let podName = '';
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_NAME_ATTEMPTS) throw bad(deploy, `could not find a free pod name after ${MAX_NAME_ATTEMPTS} tries (is the random source stuck?)`);
      podName = base + randomString(5, random);
      if (!taken.has(podName)) break;
    }
    taken.add(podName);
    const metadata: KubeObject['metadata'] = { name: podName, namespace, generateName: base, labels: { ...labels }, ownerReferences: [{ ...owner }] };
    if (annotations) metadata.annotations = { ...annotations };
    const podSpecCopy = clone(podSpec);
    if (podSpecCopy['serviceAccountName'] === undefined) podSpecCopy['serviceAccountName'] = typeof podSpecCopy['serviceAccount'] === 'string' ? podSpecCopy['serviceAccount'] : 'default';
    create.push({ apiVersion: 'v1', kind: 'Pod', metadata, spec: podSpecCopy });
  }

  const selector = clone(rec(spec['selector']) ?? {});
  selector['matchLabels'] = { ...(rec(selector['matchLabels']) ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const replicaSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rsName,
      namespace,
      uid: rsUid,
      labels: { ...labels },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployUid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas, selector, template: { ...clone(template), metadata: { ...clone(templateMeta), labels: { ...labels } } } },
  };

  return { templateHash: hash, replicaSetName: rsName, replicaSet, strategy: strategyType, create, delete: remove, keep };
}

/** What the Deployment controller does in one pass: the part of a plan's creates and deletes it may do now. */
export interface RolloutStep {
  create: KubeObject[];
  delete: KubeObject[];
}

/**
 * One pass of the Deployment controller's rollout over a plan (pkg/controller/deployment,
 * rolling.go and recreate.go). RollingUpdate: the fenceposts resolved against `replicas`
 * (maxSurge rounded up, maxUnavailable down, 25% each by default); new pods are created while
 * there are at most `replicas + maxSurge` pods, and old ones deleted while at least
 * `replicas - maxUnavailable` stay ready, the unready first. Recreate: every old pod goes
 * first, the new ones come once none is left. Surplus pods of the current template go at once.
 */
export function rolloutStep(deploy: KubeObject, plan: DeploymentPlan): RolloutStep {
  const older = plan.delete.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] !== plan.templateHash);
  const surplus = plan.delete.filter((p) => !older.includes(p));
  if (plan.strategy === 'Recreate') return { create: older.length === 0 ? plan.create : [], delete: plan.delete };
  const spec = rec(deploy['spec']) ?? {};
  const rolling = rec(rec(spec['strategy'])?.['rollingUpdate']) ?? {};
  const replicas = plan.keep.length + plan.create.length;
  const { surge, unavailable } = fenceposts(scaledValue(rolling['maxSurge'] as IntOrPercent ?? '25%', replicas, true), scaledValue(rolling['maxUnavailable'] as IntOrPercent ?? '25%', replicas, false));
  const existing = plan.keep.length + older.length;
  const create = plan.create.slice(0, Math.max(0, replicas + surge - existing));
  // Old pods may go while enough pods stay ready: the unready ones first, as they serve nothing.
  const minAvailable = replicas - unavailable;
  const newUnready = plan.keep.filter((p) => !isPodReady(p)).length + create.length;
  const maxScaledDown = existing + create.length - minAvailable - newUnready;
  const remove: KubeObject[] = [];
  if (maxScaledDown > 0) {
    remove.push(...older.filter((p) => !isPodReady(p)).slice(0, maxScaledDown));
    const ready = [...plan.keep, ...older].filter((p) => isPodReady(p)).length;
    remove.push(...older.filter((p) => isPodReady(p)).slice(0, Math.max(0, ready - minAvailable)));
  }
  return { create, delete: [...surplus, ...remove] };
}
