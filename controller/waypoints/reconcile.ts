import type { V1Pod } from '@kubernetes/client-node';
import { validateWaypoint } from '../../lib/crds/waypoint.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { Logger } from '../../lib/log.js';
import { DISCARD_EVENTS, conditionEvents, type EventRecorder, type EventType, type ObjectReference } from '../events/index.js';
import { currentConditions, sameConditions, statusObjectRef, withTransitions, type DesiredCondition, type ModelChange, type RawObject, type StatusPatcher } from '../model/index.js';
import { ReconcileLoop, type ReconcileTiming } from '../reconcile-loop.js';
import { toApiRequestError, type OwnedObjects } from './client.js';
import { waypointConditions } from './conditions.js';
import type { TrustBundleCopies } from './trust-bundle.js';
import {
  OWNED_KINDS,
  controllerOf,
  desiredObjects,
  drift,
  isWaypointRef,
  waypointTarget,
  withDesired,
  type OwnedKind,
  type WaypointTarget,
  type WaypointTemplate,
} from './objects.js';

/**
 * Runs each Waypoint as a Kubernetes controller would: its ServiceAccount,
 * Deployment and Service are created, kept as the Waypoint says (what someone
 * else changed is put back), and deleted with it (an API server may not
 * collect them by their owner references); the trust bundle its proxies mount
 * is kept in its namespace (trust-bundle.ts); its status says whether it is
 * accepted and how many of its proxies are ready.
 *
 * Level-triggered: every pass compares each Waypoint's objects (from a cache
 * of the labelled objects) with the desired ones and writes only the
 * differences, so the events its own writes cause settle without more
 * writes. Passes follow Waypoint and pod changes in the model and changes to
 * the owned objects, debounced; a failed write is retried with backoff, and
 * a full pass runs every `resyncMs` in any case (an object in the way that
 * carries no label sends no event when it goes). When passes run is
 * ../reconcile-loop.ts's.
 *
 * What it does and fails to do is told in Events, as Kubernetes controllers
 * do: about the Waypoint when its objects are created or updated (or cannot
 * be) and when its conditions change; about an object it deletes.
 */

/** What the reconciler reads from the model. */
export interface WaypointView {
  waypointObjects(): readonly RawObject[];
  waypointPods(namespace: string, name: string): readonly V1Pod[];
  onChange(fn: (change: ModelChange) => void): () => void;
}

export interface WaypointReconcilerOptions extends ReconcileTiming {
  view: WaypointView;
  objects: OwnedObjects;
  patcher: StatusPatcher;
  template: WaypointTemplate;
  /** The trust bundle's copies beside the Waypoints, written first in every pass; none: not kept. */
  bundles?: TrustBundleCopies;
  log: Logger;
  /** Where what it does is told. Default: nowhere. */
  events?: EventRecorder;
  now?: () => Date;
  /** Between full passes when nothing happens. Default 5 min. */
  resyncMs?: number;
}

/** How one owned object fared in a pass. */
interface Outcome {
  /** Why it is not in place, for the Programmed condition. */
  problem?: string;
  /** A write failed in a way a later attempt may fix. */
  retry?: boolean;
}

const OK: Outcome = {};

/** How long an object just written may stay missing from the cache before it is written again. */
const CACHE_LAG_MS = 10_000;

const objectKey = (kind: OwnedKind, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
const describe = (kind: OwnedKind, namespace: string, name: string) => `${kind} ${namespace}/${name}`;
const errText = (err: unknown) => toApiRequestError(err).message;
const errCode = (err: unknown) => toApiRequestError(err).code;
const httpText = (err: unknown) => `${errCode(err) === undefined ? '' : `HTTP ${errCode(err)}: `}${errText(err)}`;

/** The API version of each kind a Waypoint owns, for Events about them. */
const OWNED_API_VERSION: Record<OwnedKind, string> = { ServiceAccount: 'v1', Deployment: 'apps/v1', Service: 'v1' };

type Verb = 'create' | 'update' | 'delete';
/** The reasons Kubernetes' own controllers use (SuccessfulCreate, FailedCreate, ...) and the action, per verb. */
const VERB_EVENT: Record<Verb, { action: string; ok: string; failed: string }> = {
  create: { action: 'Create', ok: 'SuccessfulCreate', failed: 'FailedCreate' },
  update: { action: 'Update', ok: 'SuccessfulUpdate', failed: 'FailedUpdate' },
  delete: { action: 'Delete', ok: 'SuccessfulDelete', failed: 'FailedDelete' },
};

export class WaypointReconciler {
  private readonly o: WaypointReconcilerOptions & { now: () => Date; events: EventRecorder };
  private readonly loop: ReconcileLoop;
  private started = false;
  private unsubscribe: (() => void) | undefined;
  /** Per owned object: what the controller last wrote, and the resourceVersion that write produced. */
  private readonly written = new Map<string, { fingerprint: string; producedVersion: string | undefined; at: number }>();
  /** Per Waypoint: the status last written, and the resourceVersion it was written over (to skip rewriting before the model catches up). */
  private readonly statusWritten = new Map<string, { fingerprint: string; overVersion: string | undefined; desired: DesiredCondition[] }>();
  /** Per owned object: the conflict last logged, so one that lasts is logged once. */
  private readonly reported = new Map<string, string>();
  /** Writes made, for tests. */
  writes = 0;

  constructor(opts: WaypointReconcilerOptions) {
    this.o = { now: () => new Date(), events: DISCARD_EVENTS, ...opts };
    this.loop = new ReconcileLoop({
      pass: () => this.pass(),
      onError: (err) => this.o.log.error({ err: errText(err) }, 'bug: a waypoint reconcile pass threw; will retry'),
      now: () => this.o.now().getTime(),
      timers: opts.timers,
      debounceMs: opts.debounceMs,
      backoff: opts.backoff,
      leadership: opts.leadership,
      resyncMs: opts.resyncMs ?? 5 * 60_000,
    });
    this.o.objects.onChange((kind, event, obj) => {
      // A deleted object is created anew whatever the last write was.
      if (event === 'delete') this.written.delete(objectKey(kind, obj.metadata?.namespace ?? 'default', obj.metadata?.name ?? ''));
      if (this.started) this.loop.changed();
    });
    this.o.bundles?.onChange(() => {
      if (this.started) this.loop.changed();
    });
  }

  /** Fills the cache of owned objects, then reconciles; call once the model has synced (it decides what to delete). */
  async start(): Promise<void> {
    this.unsubscribe = this.o.view.onChange((c) => {
      if (this.started && (c.kind === 'Waypoint' || c.kind === 'Pod')) this.loop.changed();
    });
    await Promise.all([this.o.objects.start(), this.o.bundles?.start()]);
    if (this.loop.stopped) return;
    this.started = true;
    this.o.log.info({ waypoints: this.o.view.waypointObjects().length }, 'running waypoints');
    this.loop.schedule(0);
  }

  /** Runs a pass now, or after the one running; resolves when its writes are done. */
  reconcile(): Promise<void> {
    return this.loop.run();
  }

  /** One pass over every Waypoint and every owned object. Returns the number of failures to retry. */
  private async pass(): Promise<number> {
    const waypoints = this.o.view.waypointObjects();
    let failures = await this.collectOrphans(waypoints);
    // Before the Deployments: their pods wait for the bundle's ConfigMap.
    failures += (await this.o.bundles?.sync(waypoints, () => this.loop.halted)) ?? 0;
    for (const wp of waypoints) {
      if (this.loop.halted) break;
      failures += await this.reconcileOne(wp);
    }
    return failures;
  }

  /** One Waypoint: its objects, then its status. Returns the number of failures to retry. */
  private async reconcileOne(wp: RawObject): Promise<number> {
    const target = waypointTarget(wp);
    const errors = validateWaypoint(wp);
    const outcomes: Outcome[] = [];
    // A rejected Waypoint leaves its objects as they are (the last good config stays in force); one being deleted is left to the garbage collector.
    const deleting = (wp.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp !== undefined;
    if (errors.length === 0 && !deleting && target.uid) {
      const desired = desiredObjects(target, this.o.template);
      const about = statusObjectRef('Waypoint', wp);
      for (const kind of OWNED_KINDS) {
        if (this.loop.halted) return 0;
        outcomes.push(await this.ensure(kind, desired[kind], target, about));
      }
    }
    const deployment = this.o.objects.get('Deployment', target.namespace, target.name);
    const ours = deployment !== undefined && controllerOf(deployment)?.uid === target.uid;
    const running = ours ? (deployment.spec as { replicas?: number } | undefined)?.replicas : undefined;
    const conditions = waypointConditions({
      namespace: target.namespace,
      name: target.name,
      generation: wp.metadata?.generation,
      errors,
      replicas: errors.length === 0 ? target.replicas : (running ?? 0),
      deployed: ours,
      problems: outcomes.flatMap((o) => (o.problem ? [o.problem] : [])),
      pods: this.o.view.waypointPods(target.namespace, target.name),
    });
    if (this.loop.halted) return 0;
    const statusOk = await this.writeStatus(wp, target, conditions);
    return outcomes.filter((o) => o.retry).length + (statusOk ? 0 : 1);
  }

  /** Brings one owned object to what the Waypoint wants; Events go on `about`, the Waypoint. */
  private async ensure(kind: OwnedKind, desired: KubeObject, w: WaypointTarget, about: ObjectReference): Promise<Outcome> {
    const { namespace, name } = w;
    const key = objectKey(kind, namespace, name);
    const what = describe(kind, namespace, name);
    const fingerprint = JSON.stringify(desired);
    const current = this.o.objects.get(kind, namespace, name);
    if (!current) {
      const last = this.written.get(key);
      // Just created: the cache has not seen it yet (its event triggers the next pass).
      if (last?.fingerprint === fingerprint && this.o.now().getTime() - last.at < CACHE_LAG_MS) return OK;
      try {
        const made = await this.o.objects.create(kind, namespace, desired);
        this.wrote(key, fingerprint, made);
        this.o.log.info({ waypoint: `${namespace}/${name}`, object: what }, `created ${what}`);
        this.tell(about, 'Normal', 'create', `Created ${what}.`);
        return OK;
      } catch (err) {
        if (errCode(err) !== 409) return this.failed('create', what, err, about);
        // Already there: the cache is behind, or the object carries no label (someone took it off, or it is not ours).
        let there: KubeObject | undefined;
        try {
          there = await this.o.objects.read(kind, namespace, name);
        } catch (readErr) {
          return this.failed('read', what, readErr);
        }
        if (!there) return { problem: `${what} is not created yet.`, retry: true };
        return this.update(kind, desired, there, w, fingerprint, about);
      }
    }
    return this.update(kind, desired, current, w, fingerprint, about);
  }

  private async update(kind: OwnedKind, desired: KubeObject, current: KubeObject, w: WaypointTarget, fingerprint: string, about: ObjectReference): Promise<Outcome> {
    const { namespace, name } = w;
    const key = objectKey(kind, namespace, name);
    const what = describe(kind, namespace, name);
    const owner = controllerOf(current);
    if (owner && owner.uid !== w.uid) {
      // An earlier Waypoint's object goes with it (a passing state); someone else's stays in the way until a person acts.
      const earlier = isWaypointRef(owner) && owner.name === name;
      const problem = earlier
        ? `${what} belongs to an earlier Waypoint ${namespace}/${name} (uid ${owner.uid}) and is being deleted; it is created anew once it is gone.`
        : `${what} exists and is controlled by ${owner.kind} ${owner.name}, not by this Waypoint; delete or rename it, and the controller creates its own.`;
      if (this.reportOnce(key, problem) && !earlier) this.tell(about, 'Warning', 'create', problem, 'NameInUse');
      return { problem };
    }
    // No controller at all: adopted (its owner reference was taken off, or it was made by hand for this Waypoint).
    const changed = owner ? drift(desired, current) : ['metadata.ownerReferences', ...drift(desired, current)];
    this.reported.delete(key);
    if (changed.length === 0) return OK;
    const last = this.written.get(key);
    // As our own write left it: what differs is the API server's doing (defaults, webhooks), not someone else's.
    if (last?.fingerprint === fingerprint && last.producedVersion !== undefined && last.producedVersion === current.metadata?.resourceVersion) return OK;
    const why = !owner ? 'adopted' : last?.fingerprint === fingerprint ? 'put back what was changed' : 'updated to match the Waypoint';
    try {
      const made = await this.o.objects.replace(kind, namespace, name, withDesired(current, desired));
      this.wrote(key, fingerprint, made);
      this.o.log.info({ waypoint: `${namespace}/${name}`, object: what, fields: changed }, `${what}: ${why} (${changed.join(', ')})`);
      this.tell(about, 'Normal', 'update', `${what}: ${why} (${changed.join(', ')}).`);
      return OK;
    } catch (err) {
      // The object is there and what it runs keeps running: a failed update is retried, not a reason to say the Waypoint is not programmed.
      this.failed('update', what, err, about);
      return { retry: true };
    }
  }

  /** Deletes owned objects whose Waypoint is gone (or was replaced by a new one of the same name). */
  private async collectOrphans(waypoints: readonly RawObject[]): Promise<number> {
    const live = new Map(waypoints.map((w) => [`${w.metadata?.namespace ?? 'default'}/${w.metadata?.name}`, w.metadata?.uid]));
    let failures = 0;
    for (const kind of OWNED_KINDS) {
      for (const obj of this.o.objects.list(kind)) {
        if (this.loop.halted) return failures;
        const owner = controllerOf(obj);
        if (!isWaypointRef(owner)) continue; // labelled, but not a Waypoint's: not ours to delete
        const namespace = obj.metadata?.namespace ?? 'default';
        if (live.get(`${namespace}/${owner.name}`) === owner.uid) continue;
        const what = describe(kind, namespace, obj.metadata.name);
        // Its Waypoint is gone, so the Event is about the object itself.
        const about: ObjectReference = { apiVersion: OWNED_API_VERSION[kind], kind, namespace, name: obj.metadata.name, uid: obj.metadata.uid ?? '', ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}) };
        try {
          await this.o.objects.delete(kind, namespace, obj.metadata.name, obj.metadata.uid ?? '');
          this.writes++;
          this.o.log.info({ waypoint: `${namespace}/${owner.name}`, object: what }, `deleted ${what}: its Waypoint is gone`);
          this.tell(about, 'Normal', 'delete', `Deleted ${what}: the Waypoint ${namespace}/${owner.name} that owned it (uid ${owner.uid}) is gone.`);
        } catch (err) {
          const code = errCode(err);
          if (code === 404 || code === 409) continue; // gone already (garbage collected), or replaced meanwhile: the next pass sees which
          this.failed('delete', what, err, about);
          failures++;
        }
      }
    }
    return failures;
  }

  private async writeStatus(wp: RawObject, w: WaypointTarget, desired: ReturnType<typeof waypointConditions>): Promise<boolean> {
    const key = `${w.namespace}/${w.name}`;
    const current = currentConditions(wp);
    if (sameConditions(desired, current)) return true;
    const fingerprint = JSON.stringify(desired);
    const rv = wp.metadata?.resourceVersion;
    const seen = this.statusWritten.get(key);
    if (seen && seen.fingerprint === fingerprint && seen.overVersion === rv) return true;
    try {
      await this.o.patcher.patch('Waypoint', w.namespace, w.name, { conditions: withTransitions(desired, current, this.o.now().toISOString()) });
      this.statusWritten.set(key, { fingerprint, overVersion: rv, desired });
      this.writes++;
      // From what the object carries, or from our last write while the model has not caught up with it.
      const before = seen && seen.overVersion === rv ? seen.desired : current;
      for (const e of conditionEvents(statusObjectRef('Waypoint', wp), before, desired)) this.o.events.record(e);
      this.o.log.debug({ waypoint: key, conditions: desired.map((d) => `${d.type}=${d.status}`) }, 'waypoint status written');
      return true;
    } catch (err) {
      if (errCode(err) === 404) return true; // deleted meanwhile; its delete event follows
      this.o.log.warn({ code: 'AMBIT_ERR_API', waypoint: key, status: errCode(err), err: errText(err) }, `writing the status of Waypoint ${key} failed; will retry`);
      return false;
    }
  }

  private wrote(key: string, fingerprint: string, made: KubeObject | undefined): void {
    this.written.set(key, { fingerprint, producedVersion: made?.metadata?.resourceVersion, at: this.o.now().getTime() });
    this.reported.delete(key);
    this.writes++;
  }

  /** Logs a failed request, and tells it on `about` (a read only leads to a create or an update); the outcome says the object is not in place yet. */
  private failed(verb: 'read' | Verb, what: string, err: unknown, about?: ObjectReference): Outcome {
    const code = errCode(err);
    this.o.log.warn({ code: 'AMBIT_ERR_API', object: what, status: code, err: errText(err) }, `could not ${verb} ${what}; will retry`);
    if (about && verb !== 'read') this.tell(about, 'Warning', verb, `Could not ${verb} ${what} (${httpText(err)}); the controller retries.`);
    return { problem: `${what} is not in place yet: the request to ${verb} it failed (${httpText(err)}); the controller retries.`, retry: true };
  }

  /** Records an Event about `about` for what was done (or not) to one of its objects. */
  private tell(about: ObjectReference, type: EventType, verb: Verb, note: string, reason?: string): void {
    const v = VERB_EVENT[verb];
    this.o.events.record({ regarding: about, type, action: v.action, reason: reason ?? (type === 'Normal' ? v.ok : v.failed), note });
  }

  /** Logs a problem the first time it is seen for `key`; whether it was. */
  private reportOnce(key: string, problem: string): boolean {
    if (this.reported.get(key) === problem) return false;
    this.reported.set(key, problem);
    this.o.log.warn({ code: 'AMBIT_ERR_API', object: key }, problem);
    return true;
  }

  stop(): void {
    this.loop.stop();
    this.unsubscribe?.();
  }

  /** Stops the cache too, once the write in flight, if any, is done. */
  async close(): Promise<void> {
    this.stop();
    await this.loop.idle();
    await Promise.all([this.o.objects.stop(), this.o.bundles?.stop()]);
  }
}
