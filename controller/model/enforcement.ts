import { coversWorkload, isEndpointOf } from '../../lib/policy/index.js';
import type { Service, WaypointRef, Workload } from '../../lib/xds/types.js';
import type { CompiledAuthorizationPolicy } from './policies.js';
import type { DesiredCondition } from './status.js';
import { WAYPOINT_POD_LABEL } from './workloads.js';

/**
 * Where an AuthorizationPolicy is enforced: decided here, once, for both the
 * resource pushed to the node agents and the status that reports it, so the
 * two cannot disagree.
 *
 * - Selector, namespace-wide and mesh-wide policies: the node agent of each
 *   covered pod that is in the mesh, on every port.
 * - A Service target: the waypoint that serves the Service, when one does;
 *   otherwise the node agents of the Service's endpoints, on its target ports
 *   (so by ClusterIP and by pod IP alike). `serviceEnforcer` is the switch.
 * - A Waypoint target: that waypoint alone.
 */

/** Whether a Waypoint exists and whether its proxies serve traffic. */
export type WaypointState = 'missing' | 'not-running' | 'serving';

/** What the decision reads from the model. */
export interface EnforcementView {
  readonly rootNamespace: string;
  /** Live workloads, as pushed, by uid. */
  workloadsByUid(): ReadonlyMap<string, Workload>;
  /** The live workloads of one namespace. */
  workloadsIn(namespace: string): readonly Workload[];
  /** A Service as pushed (with its endpoints), if it exists. */
  pushedService(namespace: string, name: string): Service | undefined;
  namespaceInMesh(namespace: string): boolean;
  /** The waypoint a Service is bound to by `ambit.dev/use-waypoint`, if any. */
  serviceWaypoint(namespace: string, name: string): WaypointRef | null;
  waypointState(ref: WaypointRef): WaypointState;
}

export type ServiceEnforcer =
  | { by: 'waypoint'; waypoint: WaypointRef }
  /** `unserved`: the Service is bound to a waypoint that does not serve it, so traffic still reaches the endpoints directly. */
  | { by: 'node-agents'; unserved: { waypoint: WaypointRef; state: Exclude<WaypointState, 'serving'> } | null };

/** Who enforces Service-targeted policy for one Service. */
export function serviceEnforcer(view: EnforcementView, namespace: string, service: string): ServiceEnforcer {
  const waypoint = view.serviceWaypoint(namespace, service);
  if (!waypoint) return { by: 'node-agents', unserved: null };
  const state = view.waypointState(waypoint);
  return state === 'serving' ? { by: 'waypoint', waypoint } : { by: 'node-agents', unserved: { waypoint, state } };
}

/** Why no running waypoint serves Service `namespace/service` ("Service x has no waypoint ..."), or undefined when one does. */
export function unservedService(view: EnforcementView, namespace: string, service: string): string | undefined {
  const e = serviceEnforcer(view, namespace, service);
  if (e.by === 'waypoint') return undefined;
  return `Service ${service} ${e.unserved ? `names ${waypointAbsence(e.unserved.waypoint, e.unserved.state)}` : 'has no waypoint (label it or its namespace ambit.dev/use-waypoint=<waypoint>)'}`;
}

/** The target Services of `p` that its destination node agents enforce (pushed as `node_agent_services`). */
export function nodeAgentServices(view: EnforcementView, p: CompiledAuthorizationPolicy): string[] {
  return p.targetRefs.filter((r) => r.kind === 'Service' && serviceEnforcer(view, p.namespace, r.name).by === 'node-agents').map((r) => r.name);
}

// ---- status ----

/** One part of where a policy applies (its scope, or one target) and who enforces it there. */
interface Part {
  /** Undefined: nothing enforces this part. */
  enforcer: 'NodeAgents' | 'Waypoint' | undefined;
  /** Some of what the part covers is left unenforced (pods outside the mesh). */
  gaps: boolean;
  text: string;
}

const MAX_NAMED = 5;

/** `pod a`, `pods a, b and 3 more`. */
function podList(names: readonly string[], noun = 'pod'): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, MAX_NAMED).join(', ');
  const more = sorted.length > MAX_NAMED ? ` and ${sorted.length - MAX_NAMED} more` : '';
  return `${noun}${sorted.length === 1 ? '' : 's'} ${shown}${more}`;
}

const ref = (w: WaypointRef) => `${w.namespace}/${w.name}`;

function waypointAbsence(w: WaypointRef, state: Exclude<WaypointState, 'serving'>): string {
  return state === 'missing' ? `waypoint ${ref(w)}, which does not exist` : `waypoint ${ref(w)}, which does not run (none of its proxies is ready)`;
}

const notInMesh = (namespace: string): string =>
  `Namespace ${namespace} is not in the mesh (it lacks the label ambit.dev/dataplane-mode=ambient), so no node agent sees traffic to its pods and nothing enforces the policy.`;

/** Selector, namespace-wide and mesh-wide policies. */
function workloadPart(view: EnforcementView, p: CompiledAuthorizationPolicy): Part {
  if (p.scope === 'MESH') {
    return {
      enforcer: 'NodeAgents',
      gaps: false,
      text: `Mesh-wide (in the root namespace ${view.rootNamespace}, without a selector): the node agents enforce it on every connection to every pod in the mesh, on every port.`,
    };
  }
  if (!view.namespaceInMesh(p.namespace)) return { enforcer: undefined, gaps: false, text: notInMesh(p.namespace) };
  // A waypoint's own proxies are the mesh's, not workloads a policy covers: their traffic is never captured (ambit.dev/dataplane-mode=none).
  const covered = view.workloadsIn(p.namespace).filter((w) => coversWorkload(p, w) && w.labels[WAYPOINT_POD_LABEL] === undefined);
  const meshed = covered.filter((w) => w.meshed).map((w) => w.name);
  const outside = covered.filter((w) => !w.meshed).map((w) => w.name);
  const labels = Object.entries(p.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const which =
    p.scope === 'NAMESPACE'
      ? `Namespace-wide: the node agents enforce it on every connection to the pods of namespace ${p.namespace}, on every port.`
      : `The node agents enforce it on every connection to the pods of namespace ${p.namespace} labelled ${labels}, on every port: ${meshed.length > 0 ? `now ${podList(meshed)}` : 'no pod matches now'}.`;
  const gap = outside.length > 0 ? ` Not on ${podList(outside)}: opted out of the mesh (ambit.dev/dataplane-mode=none), so nothing enforces it there.` : '';
  return { enforcer: 'NodeAgents', gaps: outside.length > 0, text: which + gap };
}

/** A Service target that no waypoint serves: its endpoints' node agents, on the target ports. */
function serviceByNodeAgents(view: EnforcementView, namespace: string, name: string, enforcer: Extract<ServiceEnforcer, { by: 'node-agents' }>): Part {
  const bound = enforcer.unserved ? ` Its ambit.dev/use-waypoint label names ${waypointAbsence(enforcer.unserved.waypoint, enforcer.unserved.state)}, so its traffic still goes straight to its endpoints.` : '';
  const svc = view.pushedService(namespace, name);
  if (!svc) {
    return { enforcer: undefined, gaps: false, text: `Service ${name} does not exist in namespace ${namespace}, so nothing enforces the policy for it; once it exists, the node agents of its endpoints will.` };
  }
  const workloads = view.workloadsByUid();
  const byPorts = new Map<string, string[]>();
  const outside: string[] = [];
  for (const e of svc.endpoints) {
    if (e.ports.length === 0) continue; // no Service port reaches it
    const w = workloads.get(e.workloadUid) ?? [...workloads.values()].find((x) => isEndpointOf(e, x));
    if (!w?.meshed) {
      outside.push(w?.name ?? e.address); // an endpoint that is no pod the mesh knows goes by its address
      continue;
    }
    const ports = [...e.ports]
      .sort((a, b) => a.targetPort - b.targetPort)
      .map((m) => `${m.targetPort} (Service port ${m.servicePort})`)
      .join(', ');
    byPorts.set(ports, [...(byPorts.get(ports) ?? []), w.name]);
  }
  if (byPorts.size === 0 && outside.length === 0) {
    if (!view.namespaceInMesh(namespace)) return { enforcer: undefined, gaps: false, text: `Service ${name}: ${notInMesh(namespace)}${bound}` };
    return { enforcer: 'NodeAgents', gaps: false, text: `Service ${name} has no endpoints now; the node agents enforce it on those it gets, on its target ports.${bound}` };
  }
  if (byPorts.size === 0) {
    return { enforcer: undefined, gaps: false, text: `Service ${name}: its endpoints (${podList(outside, 'endpoint')}) are not in the mesh, so no node agent sees their traffic and nothing enforces the policy.${bound}` };
  }
  const groups = [...byPorts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ports, pods]) => `${ports.includes(',') ? 'ports' : 'port'} ${ports} of ${podList(pods)}`)
    .join('; ');
  const gap = outside.length > 0 ? ` Not on ${podList(outside, 'endpoint')}: not in the mesh, so nothing enforces it there.` : '';
  return {
    enforcer: 'NodeAgents',
    gaps: outside.length > 0,
    text: `Service ${name}: the node agents enforce it on every connection to its endpoints on the Service's target ports, by ClusterIP or pod IP alike: ${groups}; other ports of those pods are not covered.${gap}${bound}`,
  };
}

function targetParts(view: EnforcementView, p: CompiledAuthorizationPolicy): Part[] {
  return p.targetRefs.map((r): Part => {
    if (r.kind === 'Waypoint') {
      const state = view.waypointState({ namespace: p.namespace, name: r.name });
      if (state === 'serving') return { enforcer: 'Waypoint', gaps: false, text: `Waypoint ${r.name} enforces it on the traffic it serves.` };
      const absent = waypointAbsence({ namespace: p.namespace, name: r.name }, state);
      return { enforcer: undefined, gaps: false, text: `It targets ${absent}; a policy that targets a Waypoint is enforced by that waypoint alone, so nothing enforces it there.` };
    }
    const enforcer = serviceEnforcer(view, p.namespace, r.name);
    if (enforcer.by === 'waypoint') return { enforcer: 'Waypoint', gaps: false, text: `Service ${r.name}: its waypoint ${ref(enforcer.waypoint)} enforces it.` };
    return serviceByNodeAgents(view, p.namespace, r.name, enforcer);
  });
}

/**
 * The `Enforced` condition: True when every part of the policy is enforced
 * (reason: who enforces it, `NodeAgents`, `Waypoint` or
 * `NodeAgentsAndWaypoint`), False when only some is (`PartiallyEnforced`) or
 * none (`NotEnforced`). The message names the pods, ports and component.
 */
export function enforcedCondition(view: EnforcementView, p: CompiledAuthorizationPolicy, generation: number | undefined): DesiredCondition {
  const parts = p.scope === 'TARGET_REFS' ? targetParts(view, p) : [workloadPart(view, p)];
  const enforcers = [...new Set(parts.flatMap((x) => (x.enforcer ? [x.enforcer] : [])))].sort();
  const whole = parts.every((x) => x.enforcer !== undefined && !x.gaps);
  const condition = (status: 'True' | 'False', reason: string): DesiredCondition => ({
    type: 'Enforced',
    status,
    reason,
    message: parts.map((x) => x.text).join(' '),
    observedGeneration: generation,
  });
  if (enforcers.length === 0) return condition('False', 'NotEnforced');
  return whole ? condition('True', enforcers.join('And')) : condition('False', 'PartiallyEnforced');
}

const L7_FAIL_CLOSED =
  'node agents enforce it fail-closed: an ALLOW rule with L7 fields (methods, paths, hosts, request.* conditions) matches nothing, a DENY rule with them matches on its L4 fields alone';

/**
 * `WaypointAccepted`, for a policy with L7 rules: True only when a waypoint
 * that runs serves every target; otherwise it says which targets fall back
 * to the node agents' fail-closed L4 reading, and why.
 */
export function waypointCondition(view: EnforcementView, p: CompiledAuthorizationPolicy, generation: number | undefined): DesiredCondition | undefined {
  if (!p.hasL7) return undefined;
  const base = { type: 'WaypointAccepted', observedGeneration: generation };
  if (p.scope !== 'TARGET_REFS') {
    return {
      ...base,
      status: 'False',
      reason: 'NoWaypoint',
      message: `The policy has L7 rules but selects workloads, and only a waypoint sees requests; target a Service that uses a waypoint (or the Waypoint) with spec.targetRefs. Until then ${L7_FAIL_CLOSED}.`,
    };
  }
  const problems = p.targetRefs.flatMap((r) => {
    if (r.kind === 'Waypoint') {
      const state = view.waypointState({ namespace: p.namespace, name: r.name });
      return state === 'serving' ? [] : [`it targets ${waypointAbsence({ namespace: p.namespace, name: r.name }, state)}, so its L7 rules are not enforced there`];
    }
    const why = unservedService(view, p.namespace, r.name);
    return why ? [`${why}; for it ${L7_FAIL_CLOSED}`] : [];
  });
  // Waypoints parse HTTP and carry everything else as bytes: say which gets which.
  if (problems.length === 0) {
    return {
      ...base,
      status: 'True',
      reason: 'ResolvedWaypoint',
      message:
        'A running waypoint serves every target and enforces the L7 rules on each HTTP request (HTTP/1.1, and HTTP/2 with prior knowledge, as gRPC sends it). On a connection that is not HTTP (TLS from the client included), the rules are read on L4, fail-closed (an ALLOW rule with L7 fields matches nothing, a DENY rule with them matches on its L4 fields alone).',
    };
  }
  return { ...base, status: 'False', reason: 'NoWaypoint', message: `${problems.join('. ')}.` };
}
