import { AMBIT_API_VERSION } from '../../lib/crds/common.js';
import { ROOT_CA_KEY } from '../../lib/identity/index.js';
import type { InformerEvent } from '../../lib/k8s/informer.js';
import type { KubeObject, OwnerReference } from '../../lib/k8s/types.js';
import type { Logger } from '../../lib/log.js';
import type { RawObject } from '../model/index.js';
import { toApiRequestError } from './client.js';
import { isWaypointRef } from './objects.js';

/**
 * The trust bundle beside every Waypoint, as istiod keeps istio-ca-root-cert in every
 * namespace: a pod mounts only ConfigMaps of its own namespace, so each namespace with a
 * Waypoint gets a copy of the controller's root CA ConfigMap (same name, same key), which its
 * proxies mount (objects.ts). The controller's own namespace is left to the publisher
 * (../ca/publish.ts), which every replica runs; the copies are written in the passes of the
 * WaypointReconciler (reconcile.ts), so by the leader only, before the Waypoints' objects.
 *
 * Each copy lists every Waypoint of its namespace as an owner (not as its controller): the
 * garbage collector removes it when the last of them goes, also while no controller runs,
 * and the controller itself deletes a copy that no live Waypoint owns, as it does the
 * Waypoints' own objects (an API server may not collect them, or not yet). A copy is put
 * back when edited or deleted, and rewritten when this controller's bundle differs (a root
 * rotation restarts the controllers with the new bundle).
 */

/**
 * The copies as the writer sees and changes them: a cache of the ConfigMaps of one name in
 * every namespace (an informer selecting that name, which a resourceNames rule allows), and
 * the writes.
 */
export interface BundleConfigMaps {
  /** Fills the cache; resolves once listed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called on every change the cache sees. */
  onChange(fn: (event: InformerEvent, obj: KubeObject) => void): void;
  get(namespace: string): KubeObject | undefined;
  list(): readonly KubeObject[];
  create(namespace: string, body: KubeObject): Promise<KubeObject>;
  /** A PUT; the body's resourceVersion makes it a 409 if the object changed meanwhile. */
  replace(namespace: string, body: KubeObject): Promise<KubeObject>;
  /** Deletes it only if its uid is still `uid`. */
  delete(namespace: string, uid: string): Promise<void>;
}

export interface TrustBundleCopiesOptions {
  configMaps: BundleConfigMaps;
  /** The ConfigMap's name: the one the publisher writes in `ownNamespace`. */
  name: string;
  ownNamespace: string;
  /** The roots, PEM. */
  pem: string;
  log: Logger;
  now?: () => number;
}

/** How long a copy just created may stay missing from the cache before it is created again. */
const CACHE_LAG_MS = 10_000;

/** The copy a namespace with `waypoints` holds: the bundle, owned (not controlled) by each of them. */
export function trustBundleCopy(name: string, namespace: string, waypoints: readonly RawObject[], pem: string): KubeObject {
  const owners: OwnerReference[] = waypoints.map((w) => ({ apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', name: w.metadata?.name ?? '', uid: w.metadata?.uid ?? '' }));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'ambit' }, ownerReferences: owners.sort((a, b) => a.name.localeCompare(b.name)) },
    data: { [ROOT_CA_KEY]: pem },
  };
}

const refsOf = (o: KubeObject): OwnerReference[] => (o.metadata.ownerReferences ?? []) as OwnerReference[];

export class TrustBundleCopies {
  private readonly o: TrustBundleCopiesOptions;
  private readonly now: () => number;
  /** Per namespace: when a copy was last created there, with what. */
  private readonly created = new Map<string, { fingerprint: string; at: number }>();

  constructor(opts: TrustBundleCopiesOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.o.configMaps.onChange((event, obj) => {
      // A deleted copy is created anew whatever the last write was.
      if (event === 'delete') this.created.delete(obj.metadata?.namespace ?? 'default');
    });
  }

  /** Fills the cache. */
  start(): Promise<void> {
    return this.o.configMaps.start();
  }

  stop(): Promise<void> {
    return this.o.configMaps.stop();
  }

  /** Calls `fn` on every change of a copy (the owner runs a pass). */
  onChange(fn: () => void): void {
    this.o.configMaps.onChange(() => fn());
  }

  /**
   * One pass: a copy in each namespace of `waypoints` but the controller's, and none left
   * where no Waypoint is. `halted` says to stop before the next write. Returns the number of
   * failures to retry.
   */
  async sync(waypoints: readonly RawObject[], halted: () => boolean): Promise<number> {
    const byNamespace = new Map<string, RawObject[]>();
    for (const w of waypoints) {
      if (!w.metadata?.uid) continue;
      const ns = w.metadata.namespace ?? 'default';
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), w]);
    }
    let failures = 0;
    for (const [namespace, owners] of byNamespace) {
      if (halted()) return failures;
      if (namespace === this.o.ownNamespace) continue;
      if (!(await this.ensure(namespace, trustBundleCopy(this.o.name, namespace, owners, this.o.pem)))) failures++;
    }
    for (const cm of this.o.configMaps.list()) {
      if (halted()) return failures;
      const namespace = cm.metadata.namespace ?? 'default';
      if (namespace === this.o.ownNamespace || byNamespace.has(namespace)) continue;
      // Ours only if Waypoints alone own it; one made by someone else for their own use stays.
      const refs = refsOf(cm);
      if (refs.length === 0 || !refs.every(isWaypointRef)) continue;
      if (!(await this.remove(namespace, cm))) failures++;
    }
    return failures;
  }

  /** Brings one namespace's copy to `want`; false when a later pass should try again. */
  private async ensure(namespace: string, want: KubeObject): Promise<boolean> {
    const what = `ConfigMap ${namespace}/${this.o.name}`;
    const current = this.o.configMaps.get(namespace);
    const fingerprint = JSON.stringify(want);
    if (!current) {
      const last = this.created.get(namespace);
      if (last?.fingerprint === fingerprint && this.now() - last.at < CACHE_LAG_MS) return true;
      try {
        await this.o.configMaps.create(namespace, want);
        this.created.set(namespace, { fingerprint, at: this.now() });
        this.o.log.info({ configMap: `${namespace}/${this.o.name}` }, `created ${what}: the trust bundle of the Waypoints there`);
        return true;
      } catch (err) {
        // 409: there already, the cache is behind; the next pass updates it.
        return this.failed('create', what, err);
      }
    }
    const others = refsOf(current).filter((r) => !isWaypointRef(r));
    const owners = [...(want.metadata.ownerReferences ?? []), ...others];
    const sameOwners = JSON.stringify(refsOf(current).map((r) => r.uid).sort()) === JSON.stringify(owners.map((r) => r.uid).sort());
    const data = (current as { data?: Record<string, string> }).data ?? {};
    const sameData = Object.keys(data).length === 1 && data[ROOT_CA_KEY] === this.o.pem;
    const labelled = current.metadata.labels?.['app.kubernetes.io/part-of'] === 'ambit';
    if (sameOwners && sameData && labelled) return true;
    const next: KubeObject = {
      ...current,
      metadata: { ...current.metadata, labels: { ...(current.metadata.labels ?? {}), ...(want.metadata.labels ?? {}) }, ownerReferences: owners },
      data: { [ROOT_CA_KEY]: this.o.pem },
    };
    try {
      await this.o.configMaps.replace(namespace, next);
      const why = [sameData ? '' : 'the bundle', sameOwners ? '' : 'its Waypoints', labelled ? '' : 'its label'].filter(Boolean).join(', ');
      this.o.log.info({ configMap: `${namespace}/${this.o.name}` }, `updated ${what} (${why})`);
      return true;
    } catch (err) {
      return this.failed('update', what, err);
    }
  }

  private async remove(namespace: string, cm: KubeObject): Promise<boolean> {
    const what = `ConfigMap ${namespace}/${this.o.name}`;
    try {
      await this.o.configMaps.delete(namespace, cm.metadata.uid ?? '');
      this.o.log.info({ configMap: `${namespace}/${this.o.name}` }, `deleted ${what}: no Waypoint is left in ${namespace}`);
      return true;
    } catch (err) {
      const code = toApiRequestError(err).code;
      // Gone already (the garbage collector), or replaced meanwhile: the next pass sees which.
      if (code === 404 || code === 409) return true;
      return this.failed('delete', what, err);
    }
  }

  private failed(verb: string, what: string, err: unknown): false {
    const e = toApiRequestError(err);
    this.o.log.warn({ code: 'AMBIT_ERR_API', object: what, status: e.code, err: e.message }, `could not ${verb} ${what}; will retry (waypoint proxies there cannot start without it)`);
    return false;
  }
}
