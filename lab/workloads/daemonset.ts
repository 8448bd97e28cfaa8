import type { KubeObject } from '../../lib/k8s/types.js';
import { randomString, templateHash, type Random } from './names.js';
import { isPodReady } from './pods.js';

/** The label a DaemonSet's pods carry with their template's hash (upstream's ControllerRevision hash). */
export const DAEMONSET_HASH_LABEL = 'controller-revision-hash';

export interface DaemonSetPlan {
  create: KubeObject[];
  delete: KubeObject[];
  status: { desiredNumberScheduled: number; currentNumberScheduled: number; updatedNumberScheduled: number; numberReady: number; numberAvailable: number; numberUnavailable: number; observedGeneration: unknown };
}

interface DaemonSetSpec {
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { nodeSelector?: Record<string, string> } & Record<string, unknown> };
  updateStrategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
}

/**
 * The DaemonSet controller for one DaemonSet: one pod per node its nodeSelector admits (lab
 * nodes have no taints, so tolerations change nothing). A changed template rolls node by
 * node: with maxSurge (the node agent's strategy) the new pod starts beside the old one, and
 * the old one is deleted only once the new one is ready; without, the old one goes first.
 */
export function planDaemonSet(ds: KubeObject, pods: readonly KubeObject[], nodes: readonly { name: string; labels: Record<string, string> }[], random: Random = Math.random): DaemonSetPlan {
  const spec = (ds.spec ?? {}) as DaemonSetSpec;
  const template = spec.template ?? {};
  const hash = templateHash(template);
  const ns = ds.metadata.namespace ?? 'default';
  const surge = spec.updateStrategy?.type !== 'OnDelete' && Number(spec.updateStrategy?.rollingUpdate?.maxSurge ?? 0) > 0;
  const owned = pods.filter((p) => p.metadata.namespace === ns && p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.uid === ds.metadata.uid));
  const selector = template.spec?.nodeSelector ?? {};
  const eligible = nodes.filter((n) => Object.entries(selector).every(([k, v]) => n.labels[k] === v));
  const plan: DaemonSetPlan = { create: [], delete: [], status: { desiredNumberScheduled: eligible.length, currentNumberScheduled: 0, updatedNumberScheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, observedGeneration: ds.metadata['generation'] } };
  const taken = new Set(pods.map((p) => p.metadata.name));
  for (const node of eligible) {
    const here = owned.filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node.name);
    const current = here.filter((p) => p.metadata.labels?.[DAEMONSET_HASH_LABEL] === hash);
    const old = here.filter((p) => p.metadata.labels?.[DAEMONSET_HASH_LABEL] !== hash);
    plan.delete.push(...current.slice(1));
    const fresh = current[0];
    if (!fresh && (surge || old.length === 0)) plan.create.push(podFor(ds, template, hash, node.name, taken, random));
    if (old.length > 0 && ((fresh && isPodReady(fresh)) || !surge)) plan.delete.push(...old);
    if (here.length > 0) plan.status.currentNumberScheduled++;
    if (fresh) plan.status.updatedNumberScheduled++;
    if (here.some((p) => isPodReady(p))) plan.status.numberReady++;
  }
  plan.status.numberAvailable = plan.status.numberReady;
  plan.status.numberUnavailable = eligible.length - plan.status.numberReady;
  // Pods on nodes the DaemonSet no longer admits (or that are gone) go.
  const names = new Set(eligible.map((n) => n.name));
  plan.delete.push(...owned.filter((p) => !names.has((p.spec as { nodeName?: string } | undefined)?.nodeName ?? '')));
  return plan;
}

function podFor(ds: KubeObject, template: NonNullable<DaemonSetSpec['template']>, hash: string, node: string, taken: Set<string>, random: Random): KubeObject {
  let name: string;
  do name = `${ds.metadata.name}-${randomString(5, random)}`;
  while (taken.has(name));
  taken.add(name);
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
