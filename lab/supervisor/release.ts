import { isDeepStrictEqual } from 'node:util';
import { AmbitError } from '../../lib/errors.js';
import { describeObject, type KubeObject } from '../../lib/k8s/types.js';
import type { Logger } from '../../lib/log.js';
import type { ObjectStore } from '../apiserver/index.js';
import { chartWorkloadsReady } from '../chart/mesh.js';
import { hooksFor, keptByPolicy, objectKey, planUpgrade, sortByKind, UNINSTALL_ORDER, upgradedObject, type Hook, type HookDeletePolicy, type HookEvent, type Release } from '../chart/release.js';
import { jobFinished } from '../workloads/job.js';

/**
 * helm's install, upgrade and uninstall of the lab's release, carried out against the lab's
 * object store as helm would against an API server (lab/chart/release.ts has the rules): the
 * manifests created, patched or deleted in helm's kind order, hooks run at their events with
 * their delete policies, and the waits `--wait` would do. The lab's controllers and kubelet
 * act on the writes as a cluster's would.
 */

export interface ReleaseHost {
  readonly store: ObjectStore;
  /** Resolves once the lab's control loops have acted on every write so far (and deleted pods have stopped). */
  idle(): Promise<void>;
  /** What a pod's containers printed, if the lab ran it. */
  podLog(namespace: string, name: string): string | undefined;
  /** The UIDs of pods whose processes run or are still stopping. */
  livePodUids(): Set<string>;
  readonly log: Logger;
}

export interface ObjectResult {
  kind: string;
  namespace?: string;
  name: string;
  /** created, configured, unchanged, deleted, kept (...), left as installed (...). */
  result: string;
}

export interface HookRun {
  event: HookEvent;
  hook: string;
  /** succeeded, with how long its wait took; or created (kinds helm does not wait for). */
  result: string;
  /** What helm's delete policies did to it after the event's hooks succeeded. */
  deleted?: HookDeletePolicy;
}

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const resultOf = (o: KubeObject, result: string): ObjectResult => ({ kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name, result });

/**
 * Creates each manifest of `next` that is missing and patches each that exists (three-way
 * against its manifest in `previous`), then deletes what `previous` had and `next` lacks
 * (not those marked helm.sh/resource-policy: keep). CRDs are created on install only, as
 * helm does with crds/; an upgrade leaves them as they are and says whether they differ.
 */
export async function applyRelease(host: ReleaseHost, previous: Release | undefined, next: Release): Promise<ObjectResult[]> {
  const { store } = host;
  const results: ObjectResult[] = [];
  if (!previous) {
    for (const crd of next.crds) results.push(resultOf(crd, store.tryGet('customresourcedefinitions', undefined, crd.metadata.name) ? 'unchanged' : (store.create('customresourcedefinitions', crd), 'created')));
  } else {
    for (const crd of next.crds) {
      const live = store.tryGet('customresourcedefinitions', undefined, crd.metadata.name);
      const same = live !== undefined && isDeepStrictEqual(live.spec, crd.spec);
      results.push(resultOf(crd, `left as installed (helm never upgrades crds/${live === undefined ? '; not installed: kubectl apply it' : same ? '' : '; the chart\'s differs: kubectl apply it'})`));
    }
  }
  const plan = planUpgrade(previous ?? { crds: [], manifests: [], hooks: [] }, next);
  const before = new Map((previous?.manifests ?? []).map((o) => [objectKey(o), o]));
  for (const o of plan.apply) {
    const res = store.resourceOf(o);
    const ns = res.namespaced ? o.metadata.namespace : undefined;
    const live = store.tryGet(res, ns, o.metadata.name);
    if (!live) {
      store.create(res, o, ns ? { namespace: ns } : {});
      results.push(resultOf(o, 'created'));
      continue;
    }
    const original = before.get(objectKey(o));
    if (previous && !original) {
      throw new AmbitError('AMBIT_ERR_LAB_STATE', `${describeObject(o)} exists and is not part of the release; helm refuses to take it over (delete it, or label and annotate it as helm's own)`);
    }
    const after = store.replace(res, upgradedObject(original, o, live), ns ? { namespace: ns } : {});
    results.push(resultOf(o, after.metadata.resourceVersion === live.metadata.resourceVersion ? 'unchanged' : 'configured'));
  }
  for (const o of plan.remove) results.push(resultOf(o, deleteIfThere(store, o) ? 'deleted' : 'already gone'));
  for (const o of plan.kept) results.push(resultOf(o, 'kept (helm.sh/resource-policy: keep)'));
  await host.idle();
  return results;
}

function deleteIfThere(store: ObjectStore, o: KubeObject): boolean {
  const res = store.resourceOf(o);
  const ns = res.namespaced ? o.metadata.namespace : undefined;
  if (!store.tryGet(res, ns, o.metadata.name)) return false;
  store.delete(res, ns, o.metadata.name);
  return true;
}

/**
 * helm's execHook: each hook of the event in order, deleted first if its policy says
 * before-hook-creation (the default), created, and waited for (a Job until Complete, a Pod
 * until Succeeded; other kinds not at all) up to `timeoutMs`. A failed hook fails the event,
 * with what its pods printed, after its hook-failed policy; once all succeeded, those with
 * hook-succeeded are deleted, last first.
 */
export async function runHooks(host: ReleaseHost, hooks: readonly KubeObject[], event: HookEvent, timeoutMs: number): Promise<HookRun[]> {
  const selected = hooksFor(hooks, event);
  const runs: HookRun[] = [];
  for (const h of selected) {
    await deleteByPolicy(host, h, 'before-hook-creation');
    const name = describeObject(h.object);
    try {
      host.store.create(host.store.resourceOf(h.object), h.object, h.object.metadata.namespace ? { namespace: h.object.metadata.namespace } : {});
    } catch (err) {
      throw new AmbitError('AMBIT_ERR_LAB_STATE', `${event} hook ${name} could not be created: ${(err as Error).message}`);
    }
    host.log.info({ event, hook: name }, 'hook created');
    const started = Date.now();
    const failure = await waitForHook(host, h, timeoutMs);
    if (failure !== undefined) {
      const logs = hookLogs(host, h.object);
      await deleteByPolicy(host, h, 'hook-failed');
      throw new AmbitError('AMBIT_ERR_LAB_STATE', `${event} hook ${name} failed: ${failure}${logs ? `\n${logs}` : ''}`);
    }
    const waited = h.object.kind === 'Job' || h.object.kind === 'Pod';
    runs.push({ event, hook: name, result: waited ? `succeeded in ${((Date.now() - started) / 1000).toFixed(1)}s` : 'created' });
  }
  for (let i = selected.length - 1; i >= 0; i--) {
    if (await deleteByPolicy(host, selected[i]!, 'hook-succeeded')) runs[i]!.deleted = 'hook-succeeded';
  }
  return runs;
}

/** Deletes the hook's object if its policies name `policy` (never a CRD, as helm); whether it did. */
async function deleteByPolicy(host: ReleaseHost, h: Hook, policy: HookDeletePolicy): Promise<boolean> {
  if (h.object.kind === 'CustomResourceDefinition' || !h.deletePolicies.includes(policy)) return false;
  const deleted = deleteIfThere(host.store, h.object);
  if (deleted) {
    host.log.info({ hook: describeObject(h.object), policy }, 'hook deleted by its policy');
    await host.idle();
  }
  return deleted;
}

/** helm's WatchUntilReady for one hook: undefined once done, else why it failed. */
async function waitForHook(host: ReleaseHost, h: Hook, timeoutMs: number): Promise<string | undefined> {
  const { kind, metadata } = h.object;
  if (kind !== 'Job' && kind !== 'Pod') return undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = host.store.tryGet(kind === 'Job' ? 'jobs' : 'pods', metadata.namespace, metadata.name);
    if (!live) return `${kind} ${metadata.namespace}/${metadata.name} was deleted while helm waited for it`;
    if (kind === 'Job') {
      const done = jobFinished(live);
      if (done?.type === 'Complete') return undefined;
      if (done?.type === 'Failed') return `job failed: ${done.reason} (${done.message})`;
    } else {
      const phase = (live.status as { phase?: string } | undefined)?.phase;
      if (phase === 'Succeeded') return undefined;
      if (phase === 'Failed') return 'pod failed';
    }
    if (Date.now() > deadline) return `timed out waiting for the condition after ${Math.round(timeoutMs / 1000)}s`;
    await sleep(POLL_MS);
  }
}

/** The last lines each pod of a hook Job (or the hook Pod) printed, for the failure message. */
function hookLogs(host: ReleaseHost, hook: KubeObject): string {
  const ns = hook.metadata.namespace;
  const job = hook.kind === 'Job' ? host.store.tryGet('jobs', ns, hook.metadata.name) : undefined;
  const pods = hook.kind === 'Pod' ? [hook] : host.store.list('pods', { namespace: ns }).items.filter((p) => job && p.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid));
  return pods
    .map((p) => {
      const text = host.podLog(ns ?? 'default', p.metadata.name);
      const tail = text === undefined ? '(no log)' : text.trimEnd().split('\n').slice(-30).join('\n');
      return `--- pod ${ns}/${p.metadata.name} (${(p.status as { phase?: string } | undefined)?.phase ?? 'Pending'}):\n${tail}`;
    })
    .join('\n');
}

/** Waits (bounded) until the release's Deployments and DaemonSets are rolled out and ready, as `helm --wait`. */
export async function waitForRollout(host: ReleaseHost, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await host.idle();
    const { ready, waiting } = chartWorkloadsReady(host.store, namespace);
    if (ready) return;
    if (Date.now() > deadline) throw new AmbitError('AMBIT_ERR_LAB_STATE', `the release did not roll out within ${Math.round(timeoutMs / 1000)}s: ${waiting.join('; ')} (see 'ambit lab status' and 'ambit lab logs ${namespace}/POD')`);
    await sleep(POLL_MS);
  }
}

export interface UninstallResult {
  hooks: HookRun[];
  objects: ObjectResult[];
  /** Pods of the release's workloads that ran, all stopped when this returns. */
  podsStopped: number;
}

/**
 * `helm uninstall --wait`: the pre-delete hooks (unless `hooks` is false, as --no-hooks), then
 * the release's manifests deleted in uninstall order with background propagation (the lab's
 * garbage collector takes their ReplicaSets and pods), except those marked keep; then waits
 * until the pods of its workloads have stopped (each within its grace period), then the
 * post-delete hooks. The CRDs stay, and with them every custom resource, as helm leaves them.
 */
export async function uninstallRelease(host: ReleaseHost, release: Release, opts: { hooks: boolean; timeoutMs: number }): Promise<UninstallResult> {
  const hooks = opts.hooks ? await runHooks(host, release.hooks, 'pre-delete', opts.timeoutMs) : [];
  const pods = releasePods(host.store, release);
  const objects: ObjectResult[] = [];
  for (const o of sortByKind(release.manifests, UNINSTALL_ORDER)) objects.push(resultOf(o, keptByPolicy(o) ? 'kept (helm.sh/resource-policy: keep)' : deleteIfThere(host.store, o) ? 'deleted' : 'already gone'));
  for (const crd of release.crds) objects.push(resultOf(crd, 'left as installed (helm never deletes crds/; their custom resources stay)'));
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    await host.idle();
    const live = host.livePodUids();
    const running = pods.filter((p) => live.has(p.metadata.uid ?? ''));
    if (running.length === 0) break;
    if (Date.now() > deadline) throw new AmbitError('AMBIT_ERR_LAB_STATE', `the release's pods did not stop within ${Math.round(opts.timeoutMs / 1000)}s: ${running.map((p) => p.metadata.name).join(', ')}`);
    await sleep(POLL_MS);
  }
  if (opts.hooks) hooks.push(...(await runHooks(host, release.hooks, 'post-delete', opts.timeoutMs)));
  return { hooks, objects, podsStopped: pods.length };
}

/** The pods the release's workloads own, directly or through a ReplicaSet. */
function releasePods(store: ObjectStore, release: Release): KubeObject[] {
  const owners = new Set<string>();
  for (const o of release.manifests) {
    const res = store.resourceOf(o);
    const live = store.tryGet(res, res.namespaced ? o.metadata.namespace : undefined, o.metadata.name);
    if (live?.metadata.uid) owners.add(live.metadata.uid);
  }
  const ownedBy = (x: KubeObject) => x.metadata.ownerReferences?.some((r) => owners.has(r.uid)) ?? false;
  for (const rs of store.list('replicasets').items) if (ownedBy(rs) && rs.metadata.uid) owners.add(rs.metadata.uid);
  return store.list('pods').items.filter(ownedBy);
}
