import type { LoadBalancerType, TrafficPolicy as TrafficPolicyCr } from '../../lib/crds/index.js';
import type { LoadBalancerPolicy } from '../../lib/xds/types.js';

/**
 * TrafficPolicy in the model. It is not pushed as a resource of its own: the
 * load balancer of the policy in force for a Service goes on that Service.
 * Of several policies targeting one Service the oldest is in force there
 * (creationTimestamp, then name, as Gateway API policy attachment resolves
 * conflicts). Everything else a TrafficPolicy says is L7 and left to a
 * waypoint; `waypointFields` names what a policy sets of it, for its status.
 */

/** What goes on a pushed Service. */
export interface ServiceLoadBalancer {
  lbPolicy: LoadBalancerPolicy;
  /** The header CONSISTENT_HASH hashes; empty otherwise. */
  lbHashHeader: string;
}

/** A Service no TrafficPolicy targets. */
export const DEFAULT_LOAD_BALANCER: Readonly<ServiceLoadBalancer> = Object.freeze({ lbPolicy: 'ROUND_ROBIN', lbHashHeader: '' });

export interface CompiledTrafficPolicy {
  namespace: string;
  name: string;
  /** creationTimestamp in ms since the epoch; Infinity when missing, so such a policy never wins over a dated one. */
  createdMs: number;
  /** The targeted Services, by name, in the policy's namespace. */
  services: string[];
  loadBalancer: ServiceLoadBalancer;
  /** The spec fields set that only a waypoint can enforce, as spec paths (`spec.retries`). */
  waypointFields: string[];
}

const LB_POLICY: Readonly<Record<LoadBalancerType, LoadBalancerPolicy>> = {
  RoundRobin: 'ROUND_ROBIN',
  LeastRequest: 'LEAST_REQUEST',
  ConsistentHash: 'CONSISTENT_HASH',
};

/** The spec fields a node agent leaves to a waypoint, besides consistent hashing. */
const WAYPOINT_SPEC_FIELDS = ['connectionPool', 'outlierDetection', 'retries', 'timeout', 'fault', 'localRateLimit'] as const;

function timeOf(v: string | undefined): number {
  const ms = v === undefined ? NaN : Date.parse(v);
  return Number.isNaN(ms) ? Infinity : ms;
}

/** Compiles a validated TrafficPolicy. */
export function compileTrafficPolicy(cr: TrafficPolicyCr): CompiledTrafficPolicy {
  const spec = cr.spec;
  const lb = spec.loadBalancer;
  const waypointFields = [
    ...(lb?.type === 'ConsistentHash' ? ['spec.loadBalancer.consistentHash'] : []),
    ...WAYPOINT_SPEC_FIELDS.filter((k) => spec[k] !== undefined).map((k) => `spec.${k}`),
  ];
  return {
    namespace: cr.metadata.namespace ?? 'default',
    name: cr.metadata.name,
    createdMs: timeOf(cr.metadata.creationTimestamp),
    services: spec.targetRefs.map((r) => r.name),
    loadBalancer: lb ? { lbPolicy: LB_POLICY[lb.type], lbHashHeader: lb.consistentHash?.header ?? '' } : DEFAULT_LOAD_BALANCER,
    waypointFields,
  };
}

export interface TrafficPolicyBinding {
  /** Service `<namespace>/<name>` -> the policy in force for it. */
  inForce: ReadonlyMap<string, CompiledTrafficPolicy>;
  /** Policy `<namespace>/<name>` -> the Services it targets but an older policy holds, with that policy's name. */
  overridden: ReadonlyMap<string, { service: string; by: string }[]>;
}

/** Older first; the same second falls back to the name. */
function olderFirst(a: CompiledTrafficPolicy, b: CompiledTrafficPolicy): number {
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Which policy is in force for each targeted Service, and what each policy lost. */
export function bindTrafficPolicies(policies: Iterable<CompiledTrafficPolicy>): TrafficPolicyBinding {
  const inForce = new Map<string, CompiledTrafficPolicy>();
  const overridden = new Map<string, { service: string; by: string }[]>();
  for (const p of [...policies].sort(olderFirst)) {
    for (const svc of p.services) {
      const key = `${p.namespace}/${svc}`;
      const holder = inForce.get(key);
      if (!holder) {
        inForce.set(key, p);
        continue;
      }
      const own = `${p.namespace}/${p.name}`;
      overridden.set(own, [...(overridden.get(own) ?? []), { service: svc, by: holder.name }]);
    }
  }
  return { inForce, overridden };
}
