import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import { DISCARD_EVENTS, conditionEvents, type EventRecord, type EventRecorder, type ObjectReference } from '../events/index.js';
import { ReconcileLoop, type ReconcileTiming } from '../reconcile-loop.js';
import { enforcedCondition, unservedService, waypointCondition, type EnforcementView } from './enforcement.js';
import { POLICY_KINDS, ROUTE_KINDS, type BookKind, type PolicyKind } from './kinds.js';
import type { MeshModel } from './model.js';
import { formatFieldErrors, type CompiledAuthorizationPolicy, type PolicyEntry } from './policies.js';
import {
  currentParentConditions,
  describeParentRef,
  desiredRouteParents,
  parentConditionsBefore,
  routeStatusBody,
  sameRouteParents,
  type DesiredParentStatus,
  type RouteParentStatus,
} from './route-status.js';
import type { CompiledRoute } from './routes.js';
import type { CompiledTrafficPolicy } from './traffic-policies.js';

/**
 * Status conditions of the policy kinds, written back through the API's
 * status subresource. Level-triggered: after any relevant model change, every
 * policy's desired conditions are compared with the ones its object carries,
 * and only differences are written, so the update event a write causes
 * settles without another write. Passes run one at a time, debounced, and a
 * failed write is retried with backoff (../reconcile-loop.ts). A write that
 * changes a condition's status or reason records an Event about the object
 * (../events/conditions.ts says which).
 */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type DesiredCondition = Omit<Condition, 'lastTransitionTime'>;

/** The kinds whose status the controller writes: the policies and routes here, Waypoints in controller/waypoints/. */
export type StatusKind = BookKind | 'Waypoint';

/** Where each kind's status subresource is. */
const RESOURCES: Record<StatusKind, { group: string; version: string; plural: string }> = {
  AuthorizationPolicy: { group: 'ambit.dev', version: 'v1alpha1', plural: 'authorizationpolicies' },
  PeerAuthentication: { group: 'ambit.dev', version: 'v1alpha1', plural: 'peerauthentications' },
  TrafficPolicy: { group: 'ambit.dev', version: 'v1alpha1', plural: 'trafficpolicies' },
  Waypoint: { group: 'ambit.dev', version: 'v1alpha1', plural: 'waypoints' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  GRPCRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'grpcroutes' },
};

const list = (names: readonly string[]): string => names.join(', ');

/** The object a status is written to, as an Event's `regarding`: as the controller last saw it. */
export function statusObjectRef(kind: StatusKind, obj: { metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string } }): ObjectReference {
  const { group, version } = RESOURCES[kind];
  const m = obj.metadata ?? {};
  return { apiVersion: `${group}/${version}`, kind, namespace: m.namespace ?? 'default', name: m.name ?? '', uid: m.uid ?? '', ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) };
}

/**
 * A TrafficPolicy's conditions beyond Accepted: whether its target Services
 * exist (ResolvedRefs), whether an older policy holds any of them
 * (Conflicted), and, when it sets L7 fields, whether a running waypoint
 * applies them (WaypointAccepted).
 */
function trafficPolicyConditions(model: MeshModel, p: CompiledTrafficPolicy, generation: number | undefined): DesiredCondition[] {
  const out: DesiredCondition[] = [];
  const missing = p.services.filter((s) => !model.hasService(p.namespace, s));
  out.push(
    missing.length > 0
      ? {
          type: 'ResolvedRefs',
          status: 'False',
          reason: 'ServiceNotFound',
          message: `Service ${list(missing)} not found in namespace ${p.namespace}; the policy applies to it once it exists.`,
          observedGeneration: generation,
        }
      : { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'Every target Service exists.', observedGeneration: generation },
  );
  const lost = model.trafficPolicyBinding().overridden.get(`${p.namespace}/${p.name}`) ?? [];
  out.push(
    lost.length > 0
      ? {
          type: 'Conflicted',
          status: 'True',
          reason: 'OlderPolicyWins',
          message: `${lost.map((l) => `Service ${l.service} is held by TrafficPolicy ${l.by}`).join('; ')}: of the TrafficPolicies targeting one Service the oldest (by creationTimestamp, then name) is in force there, so this one does not apply to ${lost.length === 1 ? 'it' : 'them'}.`,
          observedGeneration: generation,
        }
      : { type: 'Conflicted', status: 'False', reason: 'NoConflicts', message: 'In force for every target Service.', observedGeneration: generation },
  );
  if (p.waypointFields.length > 0) out.push(trafficPolicyWaypointCondition(model, p, generation));
  return out;
}

/**
 * `WaypointAccepted` of a TrafficPolicy with L7 fields: True when a running
 * waypoint serves every target Service (it applies them all); otherwise which
 * targets have none, and what the node agents do meanwhile: consistent
 * hashing falls back to round robin, the rest is not applied.
 */
function trafficPolicyWaypointCondition(view: EnforcementView, p: CompiledTrafficPolicy, generation: number | undefined): DesiredCondition {
  const base = { type: 'WaypointAccepted', observedGeneration: generation };
  const unserved = p.services.flatMap((s) => unservedService(view, p.namespace, s) ?? []);
  if (unserved.length === 0) {
    return { ...base, status: 'True', reason: 'ResolvedWaypoint', message: `A running waypoint serves every target Service and applies ${list(p.waypointFields)} to each HTTP request (HTTP/1.1 and HTTP/2); connections that are not HTTP are carried as bytes, balanced per connection. Rate limits, pool limits and outlier detection count per proxy worker thread.` };
  }
  const hash = p.loadBalancer.lbPolicy === 'CONSISTENT_HASH';
  const rest = p.waypointFields.filter((f) => f !== 'spec.loadBalancer.consistentHash');
  const meanwhile = [
    ...(hash ? [`consistent hashing on header ${p.loadBalancer.lbHashHeader} needs a waypoint, so node agents balance connections round robin instead`] : []),
    ...(rest.length > 0 ? [`${list(rest)} ${rest.length === 1 ? 'is' : 'are'} applied by a waypoint, so ${rest.length === 1 ? 'it is' : 'they are'} not applied there`] : []),
  ];
  return { ...base, status: 'False', reason: 'NoWaypoint', message: `${unserved.join('; ')}: ${meanwhile.join('; ')}.` };
}

/** What the conditions of a policy should be. */
export function desiredConditions(model: MeshModel, kind: PolicyKind, entry: PolicyEntry<unknown>): DesiredCondition[] {
  const generation = entry.object.metadata?.generation;
  if (entry.errors.length > 0) {
    const kept = entry.good ? `The last accepted version (generation ${entry.good.generation}) stays in force.` : 'Nothing of it is enforced.';
    return [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: `Rejected: ${formatFieldErrors(entry.errors)}. ${kept}`, observedGeneration: generation }];
  }
  // Where an AuthorizationPolicy is in force is its Enforced condition's to say: a Waypoint target is sent but no node agent enforces it.
  const sent = kind === 'AuthorizationPolicy' ? 'Valid; the Enforced condition says where it is in force.' : 'Valid; sent to the node agents.';
  const out: DesiredCondition[] = [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: sent, observedGeneration: generation }];
  if (kind === 'AuthorizationPolicy' && entry.good) {
    const p = entry.good.compiled as CompiledAuthorizationPolicy;
    out.push(enforcedCondition(model, p, generation));
    const w = waypointCondition(model, p, generation);
    if (w) out.push(w);
  }
  if (kind === 'TrafficPolicy' && entry.good) out.push(...trafficPolicyConditions(model, entry.good.compiled as CompiledTrafficPolicy, generation));
  return out;
}

export function currentConditions(obj: { status?: unknown }): Condition[] {
  const conds = (obj.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conds) ? (conds as Condition[]) : [];
}

export function sameConditions(desired: DesiredCondition[], current: Condition[]): boolean {
  if (desired.length !== current.length) return false;
  return desired.every((d) => {
    const c = current.find((x) => x?.type === d.type);
    return c !== undefined && c.status === d.status && c.reason === d.reason && c.message === d.message && (c.observedGeneration ?? undefined) === d.observedGeneration;
  });
}

/** Desired conditions with lastTransitionTime kept where the status did not flip. */
export function withTransitions(desired: DesiredCondition[], current: Condition[], now: string): Condition[] {
  return desired.map((d) => {
    const c = current.find((x) => x?.type === d.type);
    const lastTransitionTime = c && c.status === d.status && typeof c.lastTransitionTime === 'string' ? c.lastTransitionTime : now;
    const out: Condition = { type: d.type, status: d.status, reason: d.reason, message: d.message, lastTransitionTime };
    if (d.observedGeneration !== undefined) out.observedGeneration = d.observedGeneration;
    return out;
  });
}

/** A status as written: conditions (policies, Waypoints), or a route's per-parent entries (Gateway API RouteStatus). */
export type StatusBody = { conditions: Condition[] } | { parents: RouteParentStatus[] };

/** Writes the status subresource of a policy, a route or a Waypoint. */
export interface StatusPatcher {
  patch(kind: StatusKind, namespace: string, name: string, status: StatusBody): Promise<void>;
}

/** Through the Kubernetes API: a JSON merge patch of `status` on the status subresource. */
export function kubeStatusPatcher(kc: KubeConfig): StatusPatcher {
  const api = kc.makeApiClient(CustomObjectsApi);
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    patch: async (kind, namespace, name, status) => {
      // A merge patch replaces a list whole: a route's body carries the other controllers' parents too (route-status.ts).
      await api.patchNamespacedCustomObjectStatus(
        { ...RESOURCES[kind], namespace, name, body: { status }, fieldManager: 'ambit-controller' },
        options,
      );
    },
  };
}

interface WantedStatus {
  kind: BookKind;
  /** The object already carries it. */
  inPlace: boolean;
  desired: unknown;
  body: (now: string) => StatusBody;
  /**
   * The Events writing it announces: the changes from what the object
   * carries, or from `lastWritten` (our last write's `desired`) when the
   * object is still at the version that write went over (the cache is behind).
   */
  events: (lastWritten: unknown) => EventRecord[];
}

export interface StatusReconcilerOptions extends ReconcileTiming {
  model: MeshModel;
  patcher: StatusPatcher;
  log: Logger;
  /** Where the changes of conditions are told. Default: nowhere. */
  events?: EventRecorder;
  now?: () => Date;
}

export class StatusReconciler {
  private readonly o: StatusReconcilerOptions & { now: () => Date; events: EventRecorder };
  private readonly loop: ReconcileLoop;
  private unsubscribe: (() => void) | undefined;
  /** What was last written per object, and the resourceVersion it was written over (to skip rewriting before the informer catches up). */
  private readonly written = new Map<string, { fingerprint: string; overVersion: string | undefined; desired: unknown }>();
  /** Writes made, for tests and /debug. */
  writes = 0;

  constructor(opts: StatusReconcilerOptions) {
    this.o = { now: () => new Date(), events: DISCARD_EVENTS, ...opts };
    this.loop = new ReconcileLoop({
      pass: () => this.pass(),
      onError: (err) => this.o.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'bug: a policy status pass threw; will retry'),
      now: () => this.o.now().getTime(),
      timers: opts.timers,
      debounceMs: opts.debounceMs,
      backoff: opts.backoff,
      leadership: opts.leadership,
    });
  }

  start(): void {
    this.unsubscribe = this.o.model.onChange((c) => {
      if (c.status) this.loop.changed();
    });
    this.loop.schedule(0);
  }

  /** Runs a pass now, or after the one running; resolves when its writes are done. */
  reconcile(): Promise<void> {
    return this.loop.run();
  }

  /** One pass over every policy and route. Returns the number of failed writes to retry. */
  private async pass(): Promise<number> {
    const books = [...POLICY_KINDS, ...ROUTE_KINDS].map((k) => this.o.model.book(k));
    const live = new Set(books.flatMap((b) => b.entriesList().map(([key]) => `${b.kind}/${key}`)));
    for (const k of this.written.keys()) if (!live.has(k)) this.written.delete(k);
    let failures = 0;
    for (const book of books) {
      for (const [key, entry] of book.entriesList()) {
        if (this.loop.halted) return failures;
        if (!(await this.reconcileOne(this.statusOf(book.kind, entry), key, entry))) failures++;
      }
    }
    return failures;
  }

  /** What one object's status should be: whether it already is, a fingerprint of the wanted state, and the body to write. */
  private statusOf(kind: BookKind, entry: PolicyEntry<unknown>): WantedStatus {
    const ref = () => statusObjectRef(kind, entry.object);
    if (kind === 'HTTPRoute' || kind === 'GRPCRoute') {
      const desired = desiredRouteParents(this.o.model, entry as PolicyEntry<CompiledRoute>);
      return {
        kind,
        inPlace: sameRouteParents(desired, entry.object),
        desired,
        body: (now) => routeStatusBody(desired, entry.object, now),
        events: (lastWritten) => {
          const was = lastWritten ? parentConditionsBefore(desired, lastWritten as DesiredParentStatus[]) : currentParentConditions(desired, entry.object);
          const ns = entry.object.metadata?.namespace ?? 'default';
          return desired.flatMap((d, i) => conditionEvents(ref(), was[i]!, d.conditions, `parent ${describeParentRef(d.parentRef, ns)}`));
        },
      };
    }
    const desired = desiredConditions(this.o.model, kind, entry);
    const current = currentConditions(entry.object);
    return {
      kind,
      inPlace: sameConditions(desired, current),
      desired,
      body: (now) => ({ conditions: withTransitions(desired, current, now) }),
      events: (lastWritten) => conditionEvents(ref(), (lastWritten as DesiredCondition[] | undefined) ?? current, desired),
    };
  }

  private async reconcileOne(want: WantedStatus, key: string, entry: PolicyEntry<unknown>): Promise<boolean> {
    const { kind } = want;
    if (want.inPlace) return true;
    const fingerprint = JSON.stringify(want.desired);
    const rv = entry.object.metadata?.resourceVersion;
    const seen = this.written.get(`${kind}/${key}`);
    if (seen && seen.fingerprint === fingerprint && seen.overVersion === rv) return true;
    const [namespace, name] = key.split('/') as [string, string];
    try {
      await this.o.patcher.patch(kind, namespace, name, want.body(this.o.now().toISOString()));
      this.written.set(`${kind}/${key}`, { fingerprint, overVersion: rv, desired: want.desired });
      this.writes++;
      for (const e of want.events(seen && seen.overVersion === rv ? seen.desired : undefined)) this.o.events.record(e);
      this.o.log.debug({ kind, resource: key }, 'status written');
      return true;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) return true; // deleted meanwhile; its delete event follows
      this.o.log.warn({ code: 'AMBIT_ERR_API', kind, resource: key, err: err instanceof Error ? err.message : String(err) }, 'writing policy status failed; will retry');
      return false;
    }
  }

  stop(): void {
    this.loop.stop();
    this.unsubscribe?.();
  }

  /** Stops, and resolves once the write in flight, if any, is done. */
  async close(): Promise<void> {
    this.stop();
    await this.loop.idle();
  }
}
