import type { ObjectStore } from '../apiserver/index.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { logger } from '../../lib/log.js';
import type { Ipam } from '../ipam.js';
import { computeAllEndpoints, isPodReady, MANAGED_BY, MANAGED_BY_LABEL, planDeployment, POD_TEMPLATE_HASH_LABEL, schedulePod } from '../workloads.js';
import type { NodeNet } from '../topology.js';
import { PodConfigError } from '../chart/kubelet.js';
import { planDaemonSet } from '../workloads/daemonset.js';
import { isPodFinished } from '../workloads/pods.js';
import { hostPortConflict } from '../workloads/scheduling.js';
import { rolloutStep } from '../workloads/deployment.js';
import { planJob } from '../workloads/job.js';
import { scaledValue } from '../workloads/rollout.js';
import type { PodManager, RunningPod } from './pods.js';

const log = logger('lab', 'workloads');

export interface WorkloadView {
  store: ObjectStore;
  nodes: NodeNet[];
  ipam: Ipam;
  pods: PodManager;
  /** The hosts file of a pod, with every Service it may resolve. */
  hostsFor(pod: { name: string; namespace: string; ip: string }): string;
}

type PodStatus = {
  phase?: string;
  podIP?: string;
  hostIP?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: unknown[];
};

/**
 * One pass of the cluster's control loops over the store: Deployments into
 * Pods, scheduling, the kubelet's start and stop, ClusterIPs, endpoints.
 */
export async function reconcileWorkloads(v: WorkloadView): Promise<void> {
  reconcileDeployments(v);
  reconcileDaemonSets(v);
  reconcileJobs(v);
  assignClusterIps(v);
  await reconcilePods(v);
  reconcileEndpoints(v);
}

/** Every object of a resource, typed as the workload functions take them. */
function objects(v: WorkloadView, resource: string): KubeObject[] {
  return v.store.list(resource).items as KubeObject[];
}

/**
 * The Deployment and ReplicaSet controllers in one: keep each Deployment's
 * ReplicaSet object current and move its pods towards the planned set as its
 * strategy allows (maxSurge and maxUnavailable, counting pods ready once
 * running and passing their readiness probes if they have any).
 */
function reconcileDeployments(v: WorkloadView): void {
  const pods = objects(v, 'pods');
  for (const deploy of objects(v, 'deployments')) {
    const plan = planDeployment(deploy, pods, { takenNames: pods.map((p) => p.metadata.name) });
    // The store names the ReplicaSet's uid; pods must point at that one.
    const { uid: _planned, ...rsMeta } = plan.replicaSet.metadata;
    const rs = v.store.apply({ ...plan.replicaSet, metadata: rsMeta });
    // RollingUpdate or Recreate, one step at a time (workloads/deployment.ts rolloutStep).
    const step = rolloutStep(deploy, plan);
    for (const pod of step.create) {
      const ownerReferences = pod.metadata.ownerReferences?.map((o) => (o.kind === 'ReplicaSet' ? { ...o, uid: rs.metadata.uid! } : o));
      v.store.create('pods', { ...pod, metadata: { ...pod.metadata, ownerReferences } });
    }
    for (const pod of step.delete) v.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
    const gone = new Set(step.delete);
    const older = plan.delete.filter((p) => !gone.has(p) && p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] !== plan.templateHash);
    const ready = [...plan.keep, ...older].filter((p) => isPodReady(p)).length;
    const updated = plan.keep.length + step.create.length;
    const status = { replicas: updated + older.length, readyReplicas: ready, availableReplicas: ready, updatedReplicas: updated, observedGeneration: deploy.metadata['generation'], conditions: [availableCondition(deploy, ready)] };
    if (JSON.stringify(deploy['status'] ?? {}) !== JSON.stringify({ ...(deploy['status'] as object), ...status })) {
      v.store.patch('deployments', deploy.metadata.namespace, deploy.metadata.name, { status }, 'merge', { subresource: 'status' });
    }
  }
  // Pods whose Deployment is gone go with it (garbage collection).
  const deployments = new Set(objects(v, 'deployments').map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
  for (const rs of objects(v, 'replicasets')) {
    const owner = rs.metadata.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (!owner || deployments.has(`${rs.metadata.namespace}/${owner.name}`)) continue;
    v.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    for (const pod of pods) {
      if (pod.metadata.namespace === rs.metadata.namespace && pod.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs.metadata.name)) {
        v.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
      }
    }
  }
}

/**
 * The Deployment's Available condition, as the deployment controller sets it: available once
 * at least `replicas - maxUnavailable` pods are (maxUnavailable rounded down from a percentage,
 * 25% by default). `ambit check` and `kubectl rollout status` read it.
 */
function availableCondition(deploy: KubeObject, available: number): { type: string; status: string; reason: string; message: string } {
  const spec = (deploy.spec ?? {}) as { replicas?: number; strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } } };
  const want = spec.replicas ?? 1;
  const maxUnavailable = spec.strategy?.type === 'Recreate' ? 0 : scaledValue(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', want, false);
  const ok = available >= want - maxUnavailable;
  return ok
    ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
    : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
}

/** The DaemonSet controller: one pod per node, rolled as the strategy says (workloads/daemonset.ts). */
function reconcileDaemonSets(v: WorkloadView): void {
  const pods = objects(v, 'pods');
  const nodes = objects(v, 'nodes').map((n) => ({ name: n.metadata.name, labels: n.metadata.labels ?? {} }));
  for (const ds of objects(v, 'daemonsets')) {
    const plan = planDaemonSet(ds, pods, nodes);
    for (const pod of plan.delete) v.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
    for (const pod of plan.create) v.store.create('pods', pod);
    const status = plan.status;
    if (JSON.stringify(ds['status'] ?? {}) !== JSON.stringify({ ...(ds['status'] as object), ...status })) {
      v.store.patch('daemonsets', ds.metadata.namespace, ds.metadata.name, { status }, 'merge', { subresource: 'status' });
    }
  }
  // Pods whose DaemonSet is gone go with it (garbage collection).
  const live = new Set(objects(v, 'daemonsets').map((d) => d.metadata.uid));
  for (const pod of pods) {
    const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'DaemonSet');
    if (owner && !live.has(owner.uid)) v.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
  }
}

/** The Job controller (workloads/job.ts); a deleted Job's pods go with it through the store's garbage collection. */
function reconcileJobs(v: WorkloadView): void {
  const pods = objects(v, 'pods');
  for (const job of objects(v, 'jobs')) {
    const plan = planJob(job, pods, new Date());
    for (const pod of plan.create) v.store.create('pods', pod);
    for (const pod of plan.delete) v.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
    if (JSON.stringify(job['status'] ?? {}) !== JSON.stringify(plan.status)) {
      v.store.replaceStatus('jobs', { ...job, status: plan.status });
    }
  }
}

/** The endpoints controller: Endpoints and EndpointSlices for every selecting Service. */
function reconcileEndpoints(v: WorkloadView): void {
  const results = computeAllEndpoints(objects(v, 'services'), objects(v, 'pods'));
  const wantSlices = new Set<string>();
  for (const { endpoints, endpointSlices } of results.values()) {
    if (endpoints) applyIfChanged(v, 'endpoints', endpoints);
    for (const slice of endpointSlices) {
      wantSlices.add(`${slice.metadata.namespace}/${slice.metadata.name}`);
      applyIfChanged(v, 'endpointslices', slice);
    }
  }
  for (const slice of objects(v, 'endpointslices')) {
    if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) continue;
    if (!wantSlices.has(`${slice.metadata.namespace}/${slice.metadata.name}`)) v.store.delete('endpointslices', slice.metadata.namespace, slice.metadata.name);
  }
}

function applyIfChanged(v: WorkloadView, resource: string, obj: KubeObject): void {
  const current = v.store.tryGet(resource, obj.metadata.namespace, obj.metadata.name) as KubeObject | undefined;
  const { metadata: _m, ...want } = obj;
  if (current) {
    const { metadata: _c, ...have } = current;
    const same = Object.entries(want).every(([k, val]) => JSON.stringify(have[k]) === JSON.stringify(val));
    if (same && JSON.stringify(current.metadata.labels ?? {}) === JSON.stringify(obj.metadata.labels ?? {})) return;
  }
  v.store.apply(obj);
}

function assignClusterIps(v: WorkloadView): void {
  for (const svc of objects(v, 'services')) {
    const spec = (svc.spec ?? {}) as { clusterIP?: string };
    const owner = `Service ${svc.metadata.namespace}/${svc.metadata.name}`;
    if (spec.clusterIP === 'None') continue;
    if (spec.clusterIP && v.ipam.ownerOf(spec.clusterIP) === owner) continue;
    const ip = v.ipam.allocateClusterIp(owner, spec.clusterIP || undefined);
    v.store.patch('services', svc.metadata.namespace, svc.metadata.name, { spec: { clusterIP: ip, clusterIPs: [ip] } }, 'merge');
  }
}

async function reconcilePods(v: WorkloadView): Promise<void> {
  const wanted = new Set<string>();
  for (const pod of objects(v, 'pods')) {
    const uid = pod.metadata.uid!;
    wanted.add(uid);
    const running = v.pods.get(uid);
    if (running) {
      syncPodStatus(v, pod, running);
      continue;
    }
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    const node = v.nodes.find((n) => n.name === (nodeName ?? scheduleOn(v, pod)));
    if (!node) {
      setStatus(v, pod, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] });
      log.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, nodeName }, 'no such node: pod stays Pending');
      continue;
    }
    const owner = `Pod ${pod.metadata.namespace}/${pod.metadata.name}`;
    // The pods the node runs hold their host ports; the first placed keeps them.
    const unschedulable = hostPortConflict(pod, node.name, objects(v, 'pods').filter((p) => v.pods.get(p.metadata.uid ?? '') && !isPodFinished(p)));
    if (unschedulable) {
      setStatus(v, pod, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: unschedulable }] });
      continue;
    }
    const hostNetwork = (pod.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true;
    const ip = hostNetwork ? node.ip : v.ipam.allocatePodIp(v.nodes.indexOf(node), owner);
    if (!nodeName) v.store.patch('pods', pod.metadata.namespace, pod.metadata.name, { spec: { nodeName: node.name } }, 'merge');
    setStatus(v, pod, { phase: 'Pending', podIP: ip, hostIP: node.ip });
    try {
      const hosts = v.hostsFor({ name: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', ip });
      const started = await v.pods.start(pod, node, ip, hosts);
      syncPodStatus(v, pod, started);
    } catch (err) {
      if (!hostNetwork) v.ipam.releasePodIp(ip);
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PodConfigError) {
        // As CreateContainerConfigError: pending, retried whenever the store changes.
        setStatus(v, pod, { phase: 'Pending', hostIP: node.ip, conditions: [{ type: 'ContainersReady', status: 'False', reason: 'CreateContainerConfigError', message }] });
        log.debug({ pod: owner, err: message }, 'pod waits for its configuration');
      } else {
        setStatus(v, pod, { phase: 'Failed', podIP: ip, hostIP: node.ip });
        log.error({ pod: owner, err: message }, 'pod sandbox failed');
      }
    }
  }
  // Deleted pods stop in the background, each within its grace period, so the control loops go
  // on meanwhile (a DaemonSet's rollout moves to the next node while an old agent drains).
  for (const p of v.pods.all()) {
    if (wanted.has(p.uid)) continue;
    void v.pods.stop(p.uid).then(
      () => {
        if (!p.hostNetwork) v.ipam.releasePodIp(p.ip);
      },
      (err: unknown) => log.error({ pod: `${p.namespace}/${p.name}`, err: err instanceof Error ? err.message : String(err) }, 'stopping the pod failed'),
    );
  }
}

function scheduleOn(v: WorkloadView, pod: KubeObject): string | undefined {
  try {
    return schedulePod(pod, v.nodes.map((n) => n.name), objects(v, 'pods').filter((p) => (p['spec'] as { nodeName?: string })?.nodeName));
  } catch (err) {
    log.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: (err as Error).message }, 'cannot schedule');
    return undefined;
  }
}

function syncPodStatus(v: WorkloadView, pod: KubeObject, running: RunningPod): void {
  const allRunning = running.containers.length > 0 && running.containers.every((c) => c.running);
  // Every container exited for good (restartPolicy Never, or OnFailure after a success): the pod is done.
  const finished = running.containers.length > 0 && running.containers.every((c) => c.finished);
  const ready = allRunning && running.probesPass !== false ? 'True' : 'False';
  setStatus(v, pod, {
    phase: finished ? (running.containers.every((c) => c.lastExitCode === 0) ? 'Succeeded' : 'Failed') : 'Running',
    podIP: running.ip,
    hostIP: running.node.ip,
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Initialized', status: 'True' },
      { type: 'ContainersReady', status: ready },
      { type: 'Ready', status: ready },
    ],
    containerStatuses: running.containers.map((c) => ({
      name: c.name,
      ready: c.running,
      restartCount: c.restartCount,
      started: c.running,
      state: c.running ? { running: { startedAt: c.startedAt } } : { terminated: { exitCode: c.lastExitCode ?? 0, ...(c.finished ? { reason: c.lastExitCode === 0 ? 'Completed' : 'Error' } : {}) } },
    })),
  });
}

/** Writes a pod's status only when it changed, so the loop converges. */
function setStatus(v: WorkloadView, pod: KubeObject, status: PodStatus): void {
  const current = (v.store.tryGet('pods', pod.metadata.namespace, pod.metadata.name)?.status ?? {}) as PodStatus;
  const next = { ...current, ...status };
  if (JSON.stringify(current) === JSON.stringify(next)) return;
  v.store.patch('pods', pod.metadata.namespace, pod.metadata.name, { status: next }, 'merge', { subresource: 'status' });
}
