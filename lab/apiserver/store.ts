import { randomUUID } from 'node:crypto';
import { logger } from '../../lib/log.js';
import { CrdAdmission } from './crd-admission.js';
import { EventLog } from './event-log.js';
import {
  checkName,
  checkShape,
  deepFreeze,
  detailsOf,
  initialStatus,
  nameSuffix,
  sameContent,
  specChanged,
  timestamp,
} from './object-rules.js';
import { applyJsonPatch, applyMergePatch, isPlainObject, type PatchType } from './patch.js';
import { findByKind, resolveResource, RESOURCES, type ResourceType } from './resources.js';
import { decodeContinue, encodeContinue, matcher, translate, type SelectOptions } from './selection.js';
import { ApiError } from './status.js';
import { applyStrategicMergePatch } from './strategic-merge.js';
import type { DraftObject, EventType, KubeObject, StoreEvent } from './types.js';
import { viewOf } from './views.js';

const log = logger('lab', 'apiserver');

export type { SelectOptions };

/** A resource type, or a name for one as kubectl accepts it (`pods`, `po`, `httproutes.gateway.networking.k8s.io`). */
export type ResourceRef = ResourceType | string;

export interface StoreOptions {
  /** How many past events watches can resume from (the etcd watch window). Default 10,000. */
  historySize?: number;
  /** The clock for creationTimestamp; injectable for tests. */
  now?: () => Date;
  /** Create `default`, `kube-system`, `kube-public` and `kube-node-lease`, as a new cluster has. Default true. */
  seedNamespaces?: boolean;
  /** Whether the garbage collector runs at first (see `garbageCollector`). Default true. */
  garbageCollector?: boolean;
}

export interface ListOptions extends SelectOptions {
  /** Page size; absent or 0 means everything. */
  limit?: number;
  /** The `continue` token of the previous page. */
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  /** The store's resourceVersion when the list was taken: watch from here to miss nothing. */
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions extends SelectOptions {
  /** '' or absent or '0': first ADDED for every matching object, then changes. A number: changes after it (410 if too old). */
  resourceVersion?: string;
}

export type WatchListener = (type: EventType, object: Readonly<KubeObject>) => void;
export type StoreListener = (event: StoreEvent) => void;

interface Subscriber {
  fn: StoreListener;
  /** Events at or below this version were already visible when it subscribed. */
  fromRv: number;
  active: boolean;
}

/** The types that hold their own objects; the others are views of one of these (views.ts). */
const STORED = RESOURCES.filter((r) => viewOf(r) === undefined);

// A listener that writes on every event it sees would never let a drain finish; this caps one drain.
const MAX_EVENTS_PER_DRAIN = 1_000_000;

/**
 * The lab cluster's single source of truth: every object of every type,
 * versioned by one store-wide counter like etcd's revision. All writes go
 * through here, whether they come from HTTP clients or from lab code calling
 * these methods directly, so watchers see one ordered stream of changes.
 *
 * Methods return private copies; refused requests throw `ApiError` with the
 * Kubernetes reason (NotFound, AlreadyExists, Conflict, Invalid, Expired...).
 * A type that is a view of another's storage (events.k8s.io Events) is
 * converted on the way in and out; its changes are the stored type's.
 */
export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<ResourceType, Map<string, Readonly<KubeObject>>>();
  private readonly history: EventLog;
  /** Objects of a type with a stored CRD are checked against its schema on every write. */
  private readonly admission = new CrdAdmission((name) => this.bucket(this.resource('customresourcedefinitions')).get(key('', name)));
  private readonly now: () => Date;
  private readonly subscribers = new Set<Subscriber>();
  private readonly queue: StoreEvent[] = [];
  private draining = false;
  /**
   * Whether the garbage collector runs: deleting an owner takes (or, with orphan propagation,
   * releases) its dependents, and an object written whose owners are all gone is collected. Off
   * plays a cluster whose kube-controller-manager is down: dependents keep their references to
   * a deleted owner and nothing goes with it.
   */
  garbageCollector: boolean;

  constructor(options: StoreOptions = {}) {
    this.garbageCollector = options.garbageCollector ?? true;
    this.history = new EventLog(options.historySize ?? 10_000);
    this.now = options.now ?? (() => new Date());
    for (const r of STORED) this.objects.set(r, new Map());
    if (options.seedNamespaces ?? true) {
      for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        this.create('namespaces', { metadata: { name } });
      }
    }
  }

  /** The newest resourceVersion, as the string clients see. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The type named by a ResourceRef; 404 if the lab does not serve it. */
  resource(ref: ResourceRef): ResourceType {
    if (typeof ref !== 'string') return ref;
    const r = resolveResource(ref);
    if (!r) throw new ApiError('NotFound', `the server doesn't have a resource type "${ref}"`);
    return r;
  }

  /** The type of a manifest, from its apiVersion and kind. */
  resourceOf(obj: { apiVersion?: unknown; kind?: unknown }): ResourceType {
    const r = findByKind(String(obj.apiVersion), String(obj.kind));
    if (!r) throw new ApiError('NotFound', `no matches for kind "${String(obj.kind)}" in version "${String(obj.apiVersion)}"`);
    return r;
  }

  create(ref: ResourceRef, body: unknown, opts: { namespace?: string } = {}): KubeObject {
    const res = this.resource(ref);
    const view = viewOf(res);
    if (view) return view.fromStorage(this.create(view.storage, view.toStorage(checkShape(res, body)), opts));
    const obj = checkShape(res, body);
    const meta = obj.metadata;
    const namespace = this.namespaceFor(res, opts.namespace, meta.namespace);
    if (res.namespaced && !this.bucket(this.resource('namespaces')).has(key('', namespace))) {
      throw new ApiError('NotFound', `namespaces "${namespace}" not found`, { name: namespace, group: '', kind: 'namespaces' });
    }
    const name = meta.name || this.generateName(res, namespace, meta.generateName);
    checkName(res, name);
    const bucket = this.bucket(res);
    if (bucket.has(key(namespace, name))) {
      throw new ApiError('AlreadyExists', `${res.plural} "${name}" already exists`, detailsOf(res, name));
    }
    const stored: KubeObject = {
      ...obj,
      metadata: {
        ...meta,
        name,
        ...(res.namespaced ? { namespace } : {}),
        uid: randomUUID(),
        resourceVersion: String(++this.rv),
        generation: 1,
        creationTimestamp: timestamp(this.now()),
      },
    };
    if (!res.namespaced) delete stored.metadata.namespace;
    this.admission.admit(res, stored);
    if (res.hasStatus) {
      const status = initialStatus(res);
      if (status === undefined) delete stored.status;
      else stored.status = status;
    }
    return this.commit(res, 'ADDED', stored);
  }

  get(ref: ResourceRef, namespace: string | undefined, name: string): KubeObject {
    const res = this.resource(ref);
    return this.present(res, this.current(res, namespace, name));
  }

  /** Like `get`, but undefined instead of NotFound. */
  tryGet(ref: ResourceRef, namespace: string | undefined, name: string): KubeObject | undefined {
    const res = this.resource(ref);
    const found = this.bucket(res).get(key(this.namespaceFor(res, namespace), name));
    return found === undefined ? undefined : this.present(res, found);
  }

  list(ref: ResourceRef, opts: ListOptions = {}): ListResult {
    const res = this.resource(ref);
    const match = matcher(res, opts);
    let entries = this.shaped(res).filter(([, o]) => match(o)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts.continue) {
      const after = decodeContinue(opts.continue);
      entries = entries.filter(([k]) => k > after);
    }
    const result: ListResult = { items: [], resourceVersion: this.resourceVersion };
    const limit = opts.limit && opts.limit > 0 ? opts.limit : entries.length;
    const page = entries.slice(0, limit);
    result.items = page.map(([, o]) => structuredClone(o) as KubeObject);
    if (page.length < entries.length) {
      result.continue = encodeContinue(page[page.length - 1]![0]);
      result.remainingItemCount = entries.length - page.length;
    }
    return result;
  }

  /**
   * PUT: replaces the object (or only its status, with `subresource: 'status'`).
   * A non-empty metadata.resourceVersion must be the current one (409 Conflict otherwise).
   */
  replace(ref: ResourceRef, body: unknown, opts: { namespace?: string; name?: string; subresource?: 'status' } = {}): KubeObject {
    const res = this.resource(ref);
    const obj = checkShape(res, body);
    const name = opts.name ?? obj.metadata.name;
    if (opts.name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== opts.name) {
      throw new ApiError('BadRequest', `the name of the object (${obj.metadata.name}) does not match the name on the URL (${opts.name})`);
    }
    if (typeof name !== 'string') throw new ApiError('Invalid', `${res.kind} has no metadata.name`, detailsOf(res));
    const namespace = this.namespaceFor(res, opts.namespace, obj.metadata.namespace);
    const existing = this.current(res, namespace, name);
    return this.present(res, this.update(res, existing, this.stored(res, obj, existing), opts.subresource));
  }

  /**
   * PATCH with a JSON merge, strategic merge, JSON or apply patch. An apply
   * (server-side apply) patch is applied as a merge patch and creates a
   * missing object; field ownership is not tracked.
   */
  patch(ref: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts: { subresource?: 'status' } = {}): KubeObject {
    const res = this.resource(ref);
    const ns = this.namespaceFor(res, namespace);
    if (type !== 'json' && !isPlainObject(patch)) throw new ApiError('BadRequest', `a ${type} patch must be a JSON object`);
    const existing = this.bucket(res).get(key(ns, name));
    if (!existing && type === 'apply' && opts.subresource === undefined) {
      return this.create(res, applyMergePatch({ metadata: { name } }, patch), { namespace: ns });
    }
    if (!existing) throw notFound(res, name);
    // A patch applies to the object as the client sees it: in a view's shape for a view.
    const seen = viewOf(res)?.fromStorage(existing) ?? existing;
    const patched = type === 'json' ? applyJsonPatch(seen, patch) : type === 'strategic' ? applyStrategicMergePatch(seen, patch) : applyMergePatch(seen, patch);
    const obj = checkShape(res, patched);
    if (obj.metadata.name !== name || (res.namespaced && obj.metadata.namespace !== ns)) {
      throw new ApiError('BadRequest', `a patch cannot change metadata.name or metadata.namespace of ${res.plural} "${name}"`);
    }
    return this.present(res, this.update(res, existing, this.stored(res, obj, existing), opts.subresource));
  }

  /** Replaces only the status; shorthand for `replace(..., { subresource: 'status' })`. */
  replaceStatus(ref: ResourceRef, body: unknown, opts: { namespace?: string; name?: string } = {}): KubeObject {
    return this.replace(ref, body, { ...opts, subresource: 'status' });
  }

  /**
   * Create-or-replace from a manifest, for `lab apply`: no resourceVersion
   * precondition, and the stored status is kept.
   */
  apply(manifest: unknown): KubeObject {
    if (!isPlainObject(manifest)) throw new ApiError('BadRequest', 'a manifest must be an object');
    const res = this.resourceOf(manifest);
    const obj = checkShape(res, manifest);
    const namespace = this.namespaceFor(res, undefined, obj.metadata.namespace);
    const existing = typeof obj.metadata.name === 'string' ? this.bucket(res).get(key(namespace, obj.metadata.name)) : undefined;
    if (!existing) return this.create(res, obj, { namespace });
    return this.present(res, this.update(res, existing, this.stored(res, { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } }, existing), undefined));
  }

  /**
   * Deletes and returns the last state. Deleting a namespace first deletes
   * every object in it. Objects whose every ownerReference pointed at deleted
   * objects are deleted next, as the garbage collector does with background
   * propagation, unless `orphanDependents` is set.
   */
  delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: { preconditions?: { uid?: string; resourceVersion?: string }; orphanDependents?: boolean } = {},
  ): KubeObject {
    const res = this.resource(ref);
    const existing = this.current(res, namespace, name);
    const pre = opts.preconditions ?? {};
    if ((pre.uid && pre.uid !== existing.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion)) {
      throw new ApiError('Conflict', `Operation cannot be fulfilled on ${res.plural} "${name}": the precondition (uid or resourceVersion) does not match`, detailsOf(res, name));
    }
    if (res.plural === 'namespaces') {
      for (const r of STORED) {
        if (!r.namespaced) continue;
        for (const o of [...this.bucket(r).values()]) {
          if (o.metadata.namespace === name) this.remove(r, o);
        }
      }
    }
    const last = this.remove(res, existing);
    if (!this.garbageCollector) return this.present(res, last);
    if (opts.orphanDependents) this.releaseDependents(existing.metadata.uid);
    else this.collectDependents(existing.metadata.uid);
    return this.present(res, last);
  }

  /** Deletes every matching object; returns them. */
  deleteCollection(ref: ResourceRef, opts: SelectOptions = {}): KubeObject[] {
    const res = this.resource(ref);
    const match = matcher(res, opts);
    const deleted: KubeObject[] = [];
    for (const [, o] of this.shaped(res).filter(([, x]) => match(x))) {
      // A cascade from an earlier deletion may already have taken it.
      if (this.bucket(res).has(key(o.metadata.namespace ?? '', o.metadata.name))) deleted.push(this.delete(res, o.metadata.namespace, o.metadata.name));
    }
    return deleted;
  }

  /**
   * A Kubernetes watch: the listener gets the changes of matching objects,
   * synchronously and in order. An object that stops matching the selectors
   * arrives as DELETED and one that starts matching as ADDED. Throws
   * Expired (410) when resuming from a version older than the history.
   * Returns a function that stops the watch.
   */
  watch(ref: ResourceRef, opts: WatchOptions, listener: WatchListener): () => void {
    const res = this.resource(ref);
    const match = matcher(res, opts);
    const rvText = opts.resourceVersion ?? '';
    if (rvText !== '' && !/^\d+$/.test(rvText)) throw new ApiError('BadRequest', `resourceVersion "${rvText}" is not a valid resource version`);
    const fromRv = Number(rvText || 0);
    const view = viewOf(res);
    const stored = view?.storage ?? res;
    // A view's watchers see its shape, frozen like the stored snapshots.
    const shape = (o: Readonly<KubeObject>): Readonly<KubeObject> => (view ? deepFreeze(view.fromStorage(o)) : o);
    const deliver = (ev: StoreEvent): void => {
      if (ev.resource !== stored) return;
      const out = translate(view ? { ...ev, object: shape(ev.object), ...(ev.oldObject ? { oldObject: shape(ev.oldObject) } : {}) } : ev, match);
      if (out) listener(out.type, out.object);
    };
    if (fromRv === 0) {
      for (const o of this.bucket(res).values()) {
        const seen = shape(o);
        if (match(seen)) listener('ADDED', seen);
      }
    } else {
      const missed = this.history.since(fromRv);
      if (!missed) {
        throw new ApiError('Expired', `too old resource version: ${fromRv} (${this.history.oldestResumable()})`);
      }
      for (const ev of missed) deliver(ev);
    }
    return this.subscribe(deliver);
  }

  /**
   * Every change to every object, synchronously and in resourceVersion order,
   * for lab code that reacts to the cluster (the lab's kubelet, controllers).
   * A listener may write to the store; its writes are delivered after the
   * current event. Returns an unsubscribe function.
   */
  subscribe(fn: StoreListener): () => void {
    const sub: Subscriber = { fn, fromRv: this.rv, active: true };
    this.subscribers.add(sub);
    return () => {
      sub.active = false;
      this.subscribers.delete(sub);
    };
  }

  private update(res: ResourceType, existing: Readonly<KubeObject>, obj: DraftObject, subresource: 'status' | undefined): KubeObject {
    const name = existing.metadata.name!;
    const wantRv = obj.metadata.resourceVersion;
    if (wantRv !== undefined && wantRv !== '' && wantRv !== existing.metadata.resourceVersion) {
      throw new ApiError('Conflict', `Operation cannot be fulfilled on ${res.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(res, name));
    }
    if (obj.metadata.uid && obj.metadata.uid !== existing.metadata.uid) {
      throw new ApiError('Conflict', `Operation cannot be fulfilled on ${res.plural} "${name}": the uid in the request (${obj.metadata.uid}) does not match the stored object (${existing.metadata.uid})`, detailsOf(res, name));
    }
    let next: KubeObject;
    if (subresource === 'status') {
      if (!res.hasStatus) throw notFound(res, `${name}/status`);
      next = { ...existing, metadata: { ...existing.metadata }, status: obj.status };
      if (obj.status === undefined) delete next.status;
    } else {
      next = {
        ...obj,
        metadata: {
          ...obj.metadata,
          name,
          uid: existing.metadata.uid,
          creationTimestamp: existing.metadata.creationTimestamp,
          generation: existing.metadata.generation,
          resourceVersion: existing.metadata.resourceVersion,
        },
      };
      if (res.namespaced) next.metadata.namespace = existing.metadata.namespace;
      else delete next.metadata.namespace;
      this.admission.admit(res, next);
      if (res.hasStatus) {
        if (existing.status === undefined) delete next.status;
        else next.status = existing.status;
      }
    }
    if (sameContent(existing, next)) return structuredClone(existing) as KubeObject;
    if (specChanged(existing, next)) next.metadata.generation = Number(existing.metadata.generation ?? 0) + 1;
    next.metadata.resourceVersion = String(++this.rv);
    return this.commit(viewOf(res)?.storage ?? res, 'MODIFIED', next, existing);
  }

  /**
   * Deletes the objects owned only by `ownerUid` (and, through `delete`, their dependents in
   * turn); those with another live owner lose the reference to the deleted one.
   */
  private collectDependents(ownerUid: unknown): void {
    if (typeof ownerUid !== 'string') return;
    for (const r of STORED) {
      for (const o of [...this.bucket(r).values()]) {
        const owners = o.metadata.ownerReferences ?? [];
        if (!owners.some((ref) => ref.uid === ownerUid)) continue;
        if (owners.some((ref) => ref.uid !== ownerUid && this.ownerLive(ref, o.metadata.namespace))) {
          this.dropOwner(r, o, ownerUid);
          continue;
        }
        // Still there? An earlier dependent's own cascade may already have removed it.
        if (this.bucket(r).has(key(o.metadata.namespace ?? '', o.metadata.name))) this.delete(r, o.metadata.namespace, o.metadata.name);
      }
    }
  }

  /** Orphan propagation: the dependents stay, without their reference to the deleted owner. */
  private releaseDependents(ownerUid: unknown): void {
    if (typeof ownerUid !== 'string') return;
    for (const r of STORED) {
      for (const o of [...this.bucket(r).values()]) {
        if (o.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) this.dropOwner(r, o, ownerUid);
      }
    }
  }

  private dropOwner(res: ResourceType, o: Readonly<KubeObject>, ownerUid: string): void {
    const next = structuredClone(o) as KubeObject;
    const rest = (o.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== ownerUid);
    if (rest.length > 0) next.metadata.ownerReferences = rest;
    else delete next.metadata.ownerReferences;
    next.metadata.resourceVersion = String(++this.rv);
    this.commit(res, 'MODIFIED', next, o);
  }

  /**
   * Whether the owner a reference names still exists, looked up as the garbage collector does:
   * by kind and name (in the dependent's namespace, unless the kind is cluster-scoped), with
   * the same uid. A kind this server does not serve counts as present: nothing proves it gone.
   */
  private ownerLive(ref: { apiVersion?: string; kind?: string; name?: string; uid?: string }, namespace: string | undefined): boolean {
    if (ref.uid === undefined) return false;
    const res = findByKind(String(ref.apiVersion), String(ref.kind));
    if (!res) return true;
    return this.bucket(res).get(key(res.namespaced ? (namespace ?? '') : '', ref.name ?? ''))?.metadata.uid === ref.uid;
  }

  /**
   * An object written with owners of which none exists any more (a dependent a client wrote
   * after its owner was deleted) is accepted, then deleted soon after, as the garbage
   * collector does: the write is not refused, the object just does not stay.
   */
  private collectIfOrphaned(res: ResourceType, obj: Readonly<KubeObject>): void {
    const orphaned = (o: Readonly<KubeObject>): boolean => {
      const owners = o.metadata.ownerReferences ?? [];
      return owners.length > 0 && owners.every((ref) => !this.ownerLive(ref, o.metadata.namespace));
    };
    if (!this.garbageCollector || !orphaned(obj)) return;
    const { namespace, name, uid } = obj.metadata;
    setImmediate(() => {
      const now = this.bucket(res).get(key(namespace ?? '', name!));
      if (this.garbageCollector && now && now.metadata.uid === uid && orphaned(now)) this.delete(res, namespace, name!);
    });
  }

  private remove(res: ResourceType, existing: Readonly<KubeObject>): KubeObject {
    const last: KubeObject = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(++this.rv) } };
    this.bucket(res).delete(key(existing.metadata.namespace ?? '', existing.metadata.name!));
    return this.commit(viewOf(res)?.storage ?? res, 'DELETED', last, undefined, false);
  }

  /** Stores (unless deleting), records and announces one change; returns a private copy. */
  private commit(res: ResourceType, type: EventType, obj: KubeObject, oldObject?: Readonly<KubeObject>, store = true): KubeObject {
    const frozen = deepFreeze(structuredClone(obj));
    if (store) {
      this.bucket(res).set(key(frozen.metadata.namespace ?? '', frozen.metadata.name!), frozen);
      this.collectIfOrphaned(res, frozen);
    }
    const event: StoreEvent = oldObject ? { type, resource: res, object: frozen, oldObject, resourceVersion: this.rv } : { type, resource: res, object: frozen, resourceVersion: this.rv };
    this.history.push(event);
    this.emit(event);
    return structuredClone(frozen) as KubeObject;
  }

  private emit(event: StoreEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let n = 0; this.queue.length > 0; n++) {
        if (n >= MAX_EVENTS_PER_DRAIN) {
          log.error({ pending: this.queue.length }, 'store listeners keep writing on every event; dropping the rest of this drain');
          this.queue.length = 0;
          break;
        }
        const ev = this.queue.shift()!;
        for (const sub of [...this.subscribers]) {
          if (!sub.active || ev.resourceVersion <= sub.fromRv) continue;
          try {
            sub.fn(ev);
          } catch (err) {
            log.error({ err, type: ev.type, resource: ev.resource.plural, name: ev.object.metadata.name }, 'a store listener threw; other listeners still get the event');
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The objects of `res`, in their stored shape (a view's are its storage type's). */
  private bucket(res: ResourceType): Map<string, Readonly<KubeObject>> {
    return this.objects.get(viewOf(res)?.storage ?? res)!;
  }

  /** The objects of `res` by key, in the shape it serves (shared with the store: not to be changed). */
  private shaped(res: ResourceType): (readonly [string, Readonly<KubeObject>])[] {
    const view = viewOf(res);
    const entries = [...this.bucket(res)];
    return view ? entries.map(([k, o]) => [k, view.fromStorage(o)] as const) : entries;
  }

  /** A private copy of a stored object, in the shape `res` serves. */
  private present(res: ResourceType, o: Readonly<KubeObject>): KubeObject {
    const view = viewOf(res);
    return view ? view.fromStorage(structuredClone(o) as KubeObject) : (structuredClone(o) as KubeObject);
  }

  /** A body written through `res`, in the stored shape (checked by a view against the object it replaces). */
  private stored(res: ResourceType, obj: DraftObject, existing: Readonly<KubeObject>): DraftObject {
    const view = viewOf(res);
    return view ? view.toStorage(obj, view.fromStorage(existing)) : obj;
  }

  private current(res: ResourceType, namespace: string | undefined, name: string): Readonly<KubeObject> {
    const found = this.bucket(res).get(key(this.namespaceFor(res, namespace), name));
    if (!found) throw notFound(res, name);
    return found;
  }

  /** The namespace an object of this type lives in: '' for cluster-scoped types, `default` if none is given. */
  private namespaceFor(res: ResourceType, fromRequest: string | undefined, fromBody?: string): string {
    if (!res.namespaced) return '';
    if (fromRequest && fromBody && fromRequest !== fromBody) {
      throw new ApiError('BadRequest', `the namespace of the provided object (${fromBody}) does not match the namespace sent on the request (${fromRequest})`);
    }
    return fromRequest || fromBody || 'default';
  }

  private generateName(res: ResourceType, namespace: string, prefix: string | undefined): string {
    if (!prefix) throw new ApiError('Invalid', `${res.kind} is invalid: metadata.name or metadata.generateName is required`, detailsOf(res));
    for (let i = 0; i < 16; i++) {
      const name = prefix + nameSuffix();
      if (!this.bucket(res).has(key(namespace, name))) return name;
    }
    throw new ApiError('AlreadyExists', `could not generate a free name from "${prefix}"`, detailsOf(res));
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function notFound(res: ResourceType, name: string): ApiError {
  return new ApiError('NotFound', `${res.plural}${res.group ? '.' + res.group : ''} "${name}" not found`, detailsOf(res, name));
}
