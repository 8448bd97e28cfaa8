import type { KubeObject } from '../../lib/k8s/types.js';
import { freeName, templateHash, type Random } from './names.js';
import { isPodReady } from './pods.js';
import { fenceposts, scaledValue, type IntOrPercent } from './rollout.js';

/** The label a DaemonSet's pods carry with their template's hash (upstream's ControllerRevision hash). */
export const DAEMONSET_HASH_LABEL = 'controller-revision-hash';

export interface DaemonSetPlan {
  create: KubeObject[];
  delete: KubeObject[];
  status: { desiredNumberScheduled: number; currentNumberScheduled: number; updatedNumberScheduled: number; numberReady: number; numberAvailable: number; numberUnavailable: number; observedGeneration: unknown };
}

interface DaemonSetSpec {
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { nodeSelector?: Record<string, string> } & Record<string, unknown> };
  updateStrategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrPercent; maxUnavailable?: IntOrPercent } };
}

const nodeOf = (p: KubeObject): string => (p.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

/**
 * The DaemonSet controller for one DaemonSet (pkg/controller/daemon): one pod per node its
 * nodeSelector admits (lab nodes have no taints, so tolerations change nothing). A changed
 * template rolls as RollingUpdate says, with the fenceposts resolved against the number of
 * nodes (both rounded up, as for DaemonSets): with maxSurge (the node agent's strategy) a new
 * pod starts beside the old one on at most maxSurge nodes at a time, and a node's old pod is
 * deleted only once its new one is ready; without, old pods are deleted first, on at most
 * maxUnavailable nodes at a time. A node whose old pod is not ready anyway is replaced at
 * once. OnDelete replaces a pod only once someone deletes it.
 */
export function planDaemonSet(ds: KubeObject, pods: readonly KubeObject[], nodes: readonly { name: string; labels: Record<string, string> }[], random: Random = Math.random): DaemonSetPlan {
  const spec = (ds.spec ?? {}) as DaemonSetSpec;
  const template = spec.template ?? {};
  const hash = templateHash(template);
  const ns = ds.metadata.namespace ?? 'default';
  const owned = pods.filter((p) => p.metadata.namespace === ns && p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.uid === ds.metadata.uid));
  const selector = template.spec?.nodeSelector ?? {};
  const eligible = nodes.filter((n) => Object.entries(selector).every(([k, v]) => n.labels[k] === v));
  const onDelete = spec.updateStrategy?.type === 'OnDelete';
  const rolling = spec.updateStrategy?.rollingUpdate ?? {};
  const { surge, unavailable } = fenceposts(scaledValue(rolling.maxSurge ?? 0, eligible.length, true), scaledValue(rolling.maxUnavailable ?? 1, eligible.length, true));
  const plan: DaemonSetPlan = { create: [], delete: [], status: { desiredNumberScheduled: eligible.length, currentNumberScheduled: 0, updatedNumberScheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, observedGeneration: ds.metadata['generation'] } };
  const taken = new Set(pods.map((p) => p.metadata.name));
  const create = (node: string) => plan.create.push(podFor(ds, template, hash, node, taken, random));
  // Nodes whose new pod is not ready beside an old one (surging), or that lack a ready pod (unavailable).
  let surging = 0;
  let unavailableNodes = 0;
  const surgeNow: string[] = [];
  const surgeCandidates: string[] = [];
  const deleteCandidates: KubeObject[][] = [];
  for (const node of eligible) {
    const here = owned.filter((p) => nodeOf(p) === node.name).sort((a, b) => olderFirst(a, b, hash));
    const current = here.filter((p) => p.metadata.labels?.[DAEMONSET_HASH_LABEL] === hash);
    const old = here.filter((p) => p.metadata.labels?.[DAEMONSET_HASH_LABEL] !== hash);
    countStatus(plan.status, here, hash);
    plan.delete.push(...current.slice(1));
    const fresh = current[0];
    if (!fresh && old.length === 0) {
      create(node.name);
      unavailableNodes++;
      continue;
    }
    if (old.length === 0) {
      if (!isPodReady(fresh!)) unavailableNodes++;
      continue;
    }
    if (onDelete) continue;
    const oldReady = old.some((p) => isPodReady(p));
    if (surge > 0) {
      if (!fresh) (oldReady ? surgeCandidates : surgeNow).push(node.name);
      else if (isPodReady(fresh)) plan.delete.push(...old);
      else surging++;
    } else if (fresh) {
      plan.delete.push(...old);
      unavailableNodes++;
    } else if (!oldReady) {
      plan.delete.push(...old);
    } else {
      deleteCandidates.push(old);
    }
  }
  for (const node of [...surgeNow, ...surgeCandidates.slice(0, Math.max(0, surge - surging))]) create(node);
  for (const old of deleteCandidates.slice(0, Math.max(0, unavailable - unavailableNodes))) plan.delete.push(...old);
  plan.status.numberUnavailable = eligible.length - plan.status.numberAvailable;
  // Pods on nodes the DaemonSet no longer admits (or that are gone) go.
  const names = new Set(eligible.map((n) => n.name));
  plan.delete.push(...owned.filter((p) => !names.has(nodeOf(p))));
  return plan;
}

/**
 * The status as the DaemonSet controller counts it: a node is scheduled if it has a pod, and
 * ready, available and updated as its oldest pod is. So during a surge a node counts as
 * updated only once its old pod is gone, which is what `kubectl rollout status` (and the
 * chart's uninstall hook) wait for.
 */
function countStatus(status: DaemonSetPlan['status'], here: readonly KubeObject[], hash: string): void {
  const oldest = here[0];
  if (!oldest) return;
  status.currentNumberScheduled++;
  if (isPodReady(oldest)) {
    status.numberReady++;
    status.numberAvailable++;
  }
  if (oldest.metadata.labels?.[DAEMONSET_HASH_LABEL] === hash) status.updatedNumberScheduled++;
}

/** By creationTimestamp (the lab's has whole seconds); on a tie a pod of an older template is the older. */
function olderFirst(a: KubeObject, b: KubeObject, hash: string): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const newer = (p: KubeObject) => (p.metadata.labels?.[DAEMONSET_HASH_LABEL] === hash ? 1 : 0);
  return newer(a) - newer(b) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);
}

function podFor(ds: KubeObject, template: NonNullable<DaemonSetSpec['template']>, hash: string, node: string, taken: Set<string>, random: Random): KubeObject {
  const name = freeName(`${ds.metadata.name}-`, taken, random);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ds.metadata.namespace ?? 'default',
      labels: { ...(template.metadata?.labels ?? {}), [DAEMONSET_HASH_LABEL]: hash },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    // Upstream pins the node with node affinity and lets the scheduler bind; the lab binds directly.
    spec: { ...(template.spec ?? {}), nodeName: node },
  } as KubeObject;
}
