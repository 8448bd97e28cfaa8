import type { MeshModel } from './model.js';
import { formatFieldErrors, type PolicyEntry } from './policies.js';
import type { CompiledRoute, RouteResolution } from './routes.js';
import { sameConditions, withTransitions, type Condition, type DesiredCondition } from './status.js';

/**
 * The status of an HTTPRoute or GRPCRoute as Gateway API defines RouteStatus:
 * one entry per parentRef under `status.parents`, each naming the controller
 * that wrote it, with Accepted and ResolvedRefs. Entries other controllers
 * wrote (another mesh or a gateway sharing the route) are left as they are.
 */

export const ROUTE_CONTROLLER_NAME = 'ambit.dev/waypoint-controller';

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: Condition[];
}

export interface DesiredParentStatus {
  parentRef: Record<string, unknown>;
  conditions: DesiredCondition[];
}

const PARENT_REF_KEYS = ['group', 'kind', 'namespace', 'name', 'sectionName', 'port'] as const;

/** The parentRefs as the spec writes them (Gateway API echoes them in status), those with a name at least. */
function specParentRefs(obj: { spec?: unknown }): Record<string, unknown>[] {
  const refs = (obj.spec as { parentRefs?: unknown } | undefined)?.parentRefs;
  if (!Array.isArray(refs)) return [];
  return refs
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && typeof (r as { name?: unknown }).name === 'string')
    .map((r) => Object.fromEntries(PARENT_REF_KEYS.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])));
}

function resolvedRefs(res: RouteResolution, generation: number | undefined): DesiredCondition {
  if (res.unresolved.length === 0) return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'Every backend reference resolved.', observedGeneration: generation };
  const shown = res.unresolved.slice(0, 5).map((u) => u.message);
  const more = res.unresolved.length > 5 ? `; and ${res.unresolved.length - 5} more` : '';
  return {
    type: 'ResolvedRefs',
    status: 'False',
    // Gateway API has one reason per condition: the first unresolved reference's.
    reason: res.unresolved[0]!.reason,
    message: `${shown.join('; ')}${more}. Requests a rule would send to an unresolved backend get HTTP 500; an unresolved mirror is skipped.`,
    observedGeneration: generation,
  };
}

function accepted(model: MeshModel, outcome: RouteResolution['parents'][number], generation: number | undefined): DesiredCondition {
  if (!outcome.accepted) return { type: 'Accepted', status: 'False', reason: outcome.reason, message: outcome.message, observedGeneration: generation };
  const { parent, waypoint } = outcome;
  const wp = `${waypoint.namespace}/${waypoint.name}`;
  const port = parent.port ? ` port ${parent.port}` : '';
  const who = parent.consumer ? 'from clients in the route’s namespace (a consumer route)' : '';
  const running = model.waypointState(waypoint) === 'serving' ? '' : ` Waypoint ${wp} has no ready proxy yet: requests to the Service fail until it has one.`;
  return {
    type: 'Accepted',
    status: 'True',
    reason: 'Accepted',
    message: `Applied by waypoint ${wp} to requests${who ? ` ${who}` : ''} to Service ${parent.namespace}/${parent.name}${port}.${running}`,
    observedGeneration: generation,
  };
}

/** What this controller's entries in `status.parents` should be, in the order of the spec's parentRefs. */
export function desiredRouteParents(model: MeshModel, entry: PolicyEntry<CompiledRoute>): DesiredParentStatus[] {
  const generation = entry.object.metadata?.generation;
  const refs = specParentRefs(entry.object);
  const good = entry.good ? model.resolveRoute(entry.good.compiled) : undefined;
  if (entry.errors.length > 0) {
    const kept = entry.good ? `The last accepted version (generation ${entry.good.generation}) stays in force.` : 'Nothing of it is applied.';
    const invalid: DesiredCondition = { type: 'Accepted', status: 'False', reason: 'UnsupportedValue', message: `Rejected: ${formatFieldErrors(entry.errors)}. ${kept}`, observedGeneration: generation };
    const refsCondition: DesiredCondition = good
      ? resolvedRefs(good, generation)
      : { type: 'ResolvedRefs', status: 'Unknown', reason: 'Pending', message: 'Not resolved: the route is invalid and has no accepted version.', observedGeneration: generation };
    return refs.map((parentRef) => ({ parentRef, conditions: [invalid, refsCondition] }));
  }
  // Valid: the compiled parents are the spec's, one for one.
  return good!.parents.map((outcome, i) => ({ parentRef: refs[i] ?? {}, conditions: [accepted(model, outcome, generation), resolvedRefs(good!, generation)] }));
}

/** parentRefs are flat (PARENT_REF_KEYS): equal when they set the same keys to the same values. */
function sameParentRef(a: unknown, b: Record<string, unknown>): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const ra = a as Record<string, unknown>;
  const keys = (r: Record<string, unknown>) => Object.keys(r).filter((k) => r[k] !== undefined);
  return keys(ra).length === keys(b).length && keys(b).every((k) => ra[k] === b[k]);
}

function currentParents(obj: { status?: unknown }): RouteParentStatus[] {
  const parents = (obj.status as { parents?: unknown } | undefined)?.parents;
  return Array.isArray(parents) ? parents.filter((p): p is RouteParentStatus => typeof p === 'object' && p !== null) : [];
}

const ours = (p: RouteParentStatus): boolean => p.controllerName === ROUTE_CONTROLLER_NAME;

export function sameRouteParents(desired: DesiredParentStatus[], obj: { status?: unknown }): boolean {
  const current = currentParents(obj).filter(ours);
  return (
    desired.length === current.length &&
    desired.every((d, i) => sameParentRef(current[i]!.parentRef, d.parentRef) && sameConditions(d.conditions, Array.isArray(current[i]!.conditions) ? current[i]!.conditions : []))
  );
}

/** The conditions `before` held for each desired parent (none for a new parent), in the order of `desired`. */
export function parentConditionsBefore<C>(desired: readonly DesiredParentStatus[], before: readonly { parentRef: unknown; conditions: readonly C[] }[]): C[][] {
  return desired.map((d) => {
    const was = before.find((p) => sameParentRef(p.parentRef, d.parentRef));
    return Array.isArray(was?.conditions) ? [...was.conditions] : [];
  });
}

/** The conditions this controller's entry for each desired parent carries now, in the order of `desired`. */
export function currentParentConditions(desired: readonly DesiredParentStatus[], obj: { status?: unknown }): Condition[][] {
  return parentConditionsBefore(desired, currentParents(obj).filter(ours));
}

/** The whole `status.parents` to write: other controllers' entries kept, ours replaced, lastTransitionTime kept where a condition did not flip. */
export function routeStatusBody(desired: DesiredParentStatus[], obj: { status?: unknown }, now: string): { parents: RouteParentStatus[] } {
  const was = currentParentConditions(desired, obj);
  return {
    parents: [
      ...currentParents(obj).filter((p) => !ours(p)),
      ...desired.map((d, i) => ({ parentRef: d.parentRef, controllerName: ROUTE_CONTROLLER_NAME, conditions: withTransitions(d.conditions, was[i]!, now) })),
    ],
  };
}

/** A parentRef as people name it: `Service shop/web port 80` (no kind is a Gateway; no namespace, the route's). */
export function describeParentRef(ref: Record<string, unknown>, routeNamespace: string): string {
  const port = ref.port !== undefined ? ` port ${String(ref.port)}` : ref.sectionName !== undefined ? ` port ${String(ref.sectionName)}` : '';
  return `${typeof ref.kind === 'string' ? ref.kind : 'Gateway'} ${typeof ref.namespace === 'string' ? ref.namespace : routeNamespace}/${String(ref.name)}${port}`;
}
