import { parseDuration, type LoadBalancerType, type TrafficPolicy as TrafficPolicyCr } from '../../lib/crds/index.js';
import type { LoadBalancerPolicy, TrafficPolicy } from '../../lib/xds/types.js';

/**
 * TrafficPolicy in the model. It is not pushed as a resource of its own: the
 * load balancer of the policy in force for a Service goes on that Service,
 * and so does the rest of it (`l7`, Service.traffic_policy) for waypoints.
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
  /** What a waypoint applies (Service.traffic_policy). */
  l7: TrafficPolicy;
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

const ms = (d: string | undefined): number => (d === undefined ? 0 : (parseDuration(d) ?? 0));

/** A three-digit retryOn entry is a status code (retriable_status_codes); the rest are condition words (retry_on). */
const STATUS_CODE = /^[1-5]\d\d$/;

/** The L7 half in the pushed form: durations in ms, 0 (or an unset message) for what the policy leaves out. */
function compileL7(cr: TrafficPolicyCr): TrafficPolicy {
  const { connectionPool: pool, outlierDetection: od, retries, fault, localRateLimit: rl } = cr.spec;
  return {
    name: `${cr.metadata.namespace ?? 'default'}/${cr.metadata.name}`,
    connectionPool: pool
      ? { maxConnections: pool.maxConnections ?? 0, maxPendingRequests: pool.maxPendingRequests ?? 0, maxRequestsPerConnection: pool.maxRequestsPerConnection ?? 0, connectTimeoutMs: ms(pool.connectTimeout) }
      : null,
    outlierDetection: od
      ? {
          consecutive_5xxErrors: od.consecutive5xxErrors ?? 0,
          consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
          intervalMs: ms(od.interval),
          baseEjectionTimeMs: ms(od.baseEjectionTime),
          maxEjectionPercent: od.maxEjectionPercent ?? 0,
        }
      : null,
    retries: retries
      ? {
          attempts: retries.attempts,
          perTryTimeoutMs: ms(retries.perTryTimeout),
          retryOn: (retries.retryOn ?? []).filter((r) => !STATUS_CODE.test(r)),
          retriableStatusCodes: (retries.retryOn ?? []).filter((r) => STATUS_CODE.test(r)).map(Number),
        }
      : null,
    timeoutMs: ms(cr.spec.timeout),
    fault: fault
      ? {
          delayMs: ms(fault.delay?.fixedDelay),
          // The percentages default to every request, as the CRD says.
          delayPercentage: fault.delay ? (fault.delay.percentage ?? 100) : 0,
          abortStatus: fault.abort?.httpStatus ?? 0,
          abortPercentage: fault.abort ? (fault.abort.percentage ?? 100) : 0,
        }
      : null,
    localRateLimit: rl ? { maxTokens: rl.maxTokens, tokensPerFill: rl.tokensPerFill ?? rl.maxTokens, fillIntervalMs: ms(rl.fillInterval) } : null,
  };
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
    l7: compileL7(cr),
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
