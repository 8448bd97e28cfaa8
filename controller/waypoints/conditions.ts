import type { V1Pod } from '@kubernetes/client-node';
import type { FieldError } from '../../lib/crds/fields.js';
import { WAYPOINT_POD_LABEL, formatFieldErrors, isLiveWorkloadPod, isReadyPod, type DesiredCondition } from '../model/index.js';
import { WAYPOINT_PORTS } from './objects.js';

/**
 * The status conditions of a Waypoint:
 * - `Accepted`: True (reason `Accepted`) when its spec is valid; False
 *   (`Invalid`) naming the bad fields. Its objects are then left as they are.
 * - `Programmed`: True (`Programmed`) once at least one of its proxies is
 *   ready, saying how many of how many; False with `Pending` while its
 *   objects are not in place (not created yet, a name taken by someone
 *   else's object, the API refusing) or `NoReadyProxies` when they are but no
 *   proxy is ready, saying what each pod still lacks.
 */

export interface WaypointFacts {
  namespace: string;
  name: string;
  generation: number | undefined;
  /** What validateWaypoint found; empty when valid. */
  errors: readonly FieldError[];
  /** The replicas asked for: the spec's when valid, else the running Deployment's. */
  replicas: number;
  /** Whether its Deployment exists (and is its own). */
  deployed: boolean;
  /** Why its objects are not all in place, one sentence each; empty when they are. */
  problems: readonly string[];
  /** Its pods (label `ambit.dev/waypoint=<name>`), ready or not. */
  pods: readonly V1Pod[];
}

const MAX_PODS = 5;

/** What one pod that is not ready still lacks. */
function podGap(pod: V1Pod): string {
  const name = pod.metadata?.name ?? '?';
  if (pod.metadata?.deletionTimestamp) return `pod ${name} is shutting down`;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `pod ${name} has ended (${phase})`;
  if (!pod.spec?.nodeName) return `pod ${name} is not scheduled to a node yet`;
  if (!isLiveWorkloadPod(pod)) return `pod ${name} is not running`;
  if (!pod.status?.podIP) return `pod ${name} has no IP yet (${phase ?? 'Pending'})`;
  const waiting = pod.status.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  const restarts = pod.status.containerStatuses?.reduce((n, c) => n + (c.restartCount ?? 0), 0) ?? 0;
  const why = waiting ? `; its container is waiting (${waiting})` : restarts > 0 ? `; its container restarted ${restarts} time${restarts === 1 ? '' : 's'}` : '';
  return `pod ${name} is not Ready: its readiness probe (GET /ready on port ${WAYPOINT_PORTS.admin}) does not pass yet${why}`;
}

function programmed(f: WaypointFacts): DesiredCondition {
  const base = { type: 'Programmed', observedGeneration: f.generation };
  const deployment = `Deployment ${f.namespace}/${f.name}`;
  if (f.problems.length > 0) return { ...base, status: 'False', reason: 'Pending', message: f.problems.join(' ') };
  if (!f.deployed) {
    const message =
      f.errors.length > 0 ? `Nothing runs it: the Waypoint is rejected (see Accepted), so ${deployment} is not created.` : `${deployment} is not created yet.`;
    return { ...base, status: 'False', reason: 'Pending', message };
  }
  const ready = f.pods.filter((p) => isReadyPod(p));
  if (ready.length > 0) return { ...base, status: 'True', reason: 'Programmed', message: `${ready.length} of ${f.replicas} proxies ready.` };
  if (f.replicas === 0) return { ...base, status: 'False', reason: 'NoReadyProxies', message: `spec.replicas is 0, so no proxy runs.` };
  if (f.pods.length === 0) {
    return {
      ...base,
      status: 'False',
      reason: 'NoReadyProxies',
      message: `0 of ${f.replicas} proxies ready: ${deployment} has no pods yet (labelled ${WAYPOINT_POD_LABEL}=${f.name}); see its status and events (kubectl describe deployment ${f.name} -n ${f.namespace}).`,
    };
  }
  const sorted = [...f.pods].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const more = sorted.length > MAX_PODS ? `; and ${sorted.length - MAX_PODS} more` : '';
  return {
    ...base,
    status: 'False',
    reason: 'NoReadyProxies',
    message: `0 of ${f.replicas} proxies ready: ${sorted.slice(0, MAX_PODS).map(podGap).join('; ')}${more}.`,
  };
}

export function waypointConditions(f: WaypointFacts): DesiredCondition[] {
  const accepted: DesiredCondition =
    f.errors.length > 0
      ? {
          type: 'Accepted',
          status: 'False',
          reason: 'Invalid',
          message: `Rejected: ${formatFieldErrors(f.errors)}. ${f.deployed ? 'Its Deployment and Service stay as they are.' : 'Nothing is deployed for it.'}`,
          observedGeneration: f.generation,
        }
      : {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: `Valid; it runs as Deployment ${f.namespace}/${f.name} behind Service ${f.namespace}/${f.name}.`,
          observedGeneration: f.generation,
        };
  return [accepted, programmed(f)];
}
