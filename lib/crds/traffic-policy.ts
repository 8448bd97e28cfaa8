import { type KubeObject } from '../k8s/types.js';
import { AMBIT_API_VERSION, checkTargetNamespaces, namespaceOf, type PolicyTargetReference } from './common.js';
import type { FieldError } from './fields.js';
import { validateCustomResource } from './schema.js';
import { unknownFieldNote } from './schema-errors.js';

/**
 * `TrafficPolicy` (ambit.dev/v1alpha1): how clients reach a Service. Field
 * names follow Istio's DestinationRule/VirtualService where one exists,
 * flattened, and durations use the Gateway API grammar ("1s", "250ms").
 *
 * ```yaml
 * spec:
 *   targetRefs: [{ kind: Service, name: reviews }]
 *   loadBalancer: { type: ConsistentHash, consistentHash: { header: x-user } }
 *   connectionPool: { maxConnections: 100, maxPendingRequests: 10, connectTimeout: 2s }
 *   outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
 *   retries: { attempts: 3, perTryTimeout: 500ms, retryOn: [5xx, connect-failure] }
 *   timeout: 5s
 *   fault: { delay: { fixedDelay: 2s, percentage: 10 }, abort: { httpStatus: 503, percentage: 5 } }
 *   localRateLimit: { maxTokens: 100, tokensPerFill: 10, fillInterval: 1s }
 * ```
 */

export const LB_TYPES = ['RoundRobin', 'LeastRequest', 'ConsistentHash'] as const;
export type LoadBalancerType = (typeof LB_TYPES)[number];

/** Conditions `retries.retryOn` may name, besides three-digit status codes. */
export const RETRY_ON = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;

export interface LoadBalancer {
  type: LoadBalancerType;
  /** Required with ConsistentHash, rejected otherwise. */
  consistentHash?: { header: string };
}

export interface ConnectionPool {
  /** Upper bound on connections to the whole Service from one client proxy. */
  maxConnections?: number;
  /** Requests that may wait for a connection before being rejected with 503. */
  maxPendingRequests?: number;
  /** 0 means unlimited. */
  maxRequestsPerConnection?: number;
  connectTimeout?: string;
}

export interface OutlierDetection {
  /** 0 disables this trigger. */
  consecutive5xxErrors?: number;
  /** 502, 503, 504 and connect failures; 0 disables this trigger. */
  consecutiveGatewayErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
}

export interface Retries {
  /** Retries after the first try; 0 disables retries. */
  attempts: number;
  perTryTimeout?: string;
  retryOn?: string[];
}

export interface FaultInjection {
  /** `percentage` (0..100, default 100) of requests wait `fixedDelay`. */
  delay?: { fixedDelay: string; percentage?: number };
  /** `percentage` (0..100, default 100) of requests get `httpStatus` without reaching the backend. */
  abort?: { httpStatus: number; percentage?: number };
}

/** A token bucket per client proxy: `maxTokens` burst, refilled by `tokensPerFill` (default `maxTokens`) every `fillInterval`. */
export interface LocalRateLimit {
  maxTokens: number;
  tokensPerFill?: number;
  fillInterval: string;
}

export interface TrafficPolicySpec {
  /** Services in the policy's namespace; required. */
  targetRefs: PolicyTargetReference[];
  loadBalancer?: LoadBalancer;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
  retries?: Retries;
  /** Whole-request timeout, retries included; "0s" disables it. */
  timeout?: string;
  fault?: FaultInjection;
  localRateLimit?: LocalRateLimit;
}

export interface TrafficPolicy extends KubeObject {
  kind: 'TrafficPolicy';
  spec: TrafficPolicySpec;
}

/** Its CRD schema (charts/ambit/crds/trafficpolicies.ambit.dev.yaml), then the targets' namespace, which no schema can check. */
export function validateTrafficPolicy(obj: unknown): FieldError[] {
  return validateCustomResource<TrafficPolicy>(AMBIT_API_VERSION, 'TrafficPolicy', obj, {
    hints: {
      targetRef: unknownFieldNote('use targetRefs (a list)'),
      retryOn: (i) =>
        i.keyword === 'type' && typeof i.value === 'string' ? 'must be a list, e.g. [5xx, connect-failure] (Istio writes a comma-separated string; Ambit a list)' : undefined,
    },
    semantic: (tp, f) => checkTargetNamespaces(f, tp.spec.targetRefs, namespaceOf(tp), 'spec.targetRefs'),
  });
}
