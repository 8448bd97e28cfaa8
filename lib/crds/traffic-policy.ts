import { type KubeObject } from '../k8s/types.js';
import { checkTargetRefs, objectSpec, sub, type PolicyTargetReference } from './common.js';
import { childPath, itemPath } from './field-path.js';
import { field, guarded, type FieldError } from './fields.js';

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

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

export function validateTrafficPolicy(obj: unknown): FieldError[] {
  return guarded('', (f) => {
    const { spec, namespace } = objectSpec(f, obj, { specRequired: true });
    if (!spec) return;
    f.onlyKnown(spec, 'spec', ['targetRefs', 'loadBalancer', 'connectionPool', 'outlierDetection', 'retries', 'timeout', 'fault', 'localRateLimit'], {
      targetRef: 'use targetRefs (a list)',
    });
    checkTargetRefs(f, field(spec, 'targetRefs'), 'spec.targetRefs', ['Service'], namespace, { required: true });

    const lb = sub(f, spec, 'loadBalancer', 'spec');
    if (lb.rec) {
      f.onlyKnown(lb.rec, lb.path, ['type', 'consistentHash']);
      const type = f.oneOf(field(lb.rec, 'type'), childPath(lb.path, 'type'), LB_TYPES, { required: true });
      const ch = sub(f, lb.rec, 'consistentHash', lb.path, type === 'ConsistentHash');
      if (ch.rec) {
        f.onlyKnown(ch.rec, ch.path, ['header']);
        f.string(field(ch.rec, 'header'), childPath(ch.path, 'header'), {
          required: true,
          check: (s) => (HEADER_NAME.test(s) ? undefined : `must be an HTTP header name (got ${JSON.stringify(s)})`),
        });
        if (type !== undefined && type !== 'ConsistentHash') f.add(ch.path, `only applies when type is ConsistentHash (type is ${type})`);
      }
    }

    const pool = sub(f, spec, 'connectionPool', 'spec');
    if (pool.rec) {
      f.onlyKnown(pool.rec, pool.path, ['maxConnections', 'maxPendingRequests', 'maxRequestsPerConnection', 'connectTimeout']);
      f.int(field(pool.rec, 'maxConnections'), childPath(pool.path, 'maxConnections'), { min: 1 });
      f.int(field(pool.rec, 'maxPendingRequests'), childPath(pool.path, 'maxPendingRequests'), { min: 1 });
      f.int(field(pool.rec, 'maxRequestsPerConnection'), childPath(pool.path, 'maxRequestsPerConnection'), { min: 0 });
      f.duration(field(pool.rec, 'connectTimeout'), childPath(pool.path, 'connectTimeout'), { positive: true });
    }

    const od = sub(f, spec, 'outlierDetection', 'spec');
    if (od.rec) {
      f.onlyKnown(od.rec, od.path, ['consecutive5xxErrors', 'consecutiveGatewayErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent']);
      f.int(field(od.rec, 'consecutive5xxErrors'), childPath(od.path, 'consecutive5xxErrors'), { min: 0 });
      f.int(field(od.rec, 'consecutiveGatewayErrors'), childPath(od.path, 'consecutiveGatewayErrors'), { min: 0 });
      f.duration(field(od.rec, 'interval'), childPath(od.path, 'interval'), { positive: true });
      f.duration(field(od.rec, 'baseEjectionTime'), childPath(od.path, 'baseEjectionTime'), { positive: true });
      f.percent(field(od.rec, 'maxEjectionPercent'), childPath(od.path, 'maxEjectionPercent'));
    }

    const retries = sub(f, spec, 'retries', 'spec');
    if (retries.rec) {
      f.onlyKnown(retries.rec, retries.path, ['attempts', 'perTryTimeout', 'retryOn']);
      f.int(field(retries.rec, 'attempts'), childPath(retries.path, 'attempts'), { required: true, min: 0 });
      f.duration(field(retries.rec, 'perTryTimeout'), childPath(retries.path, 'perTryTimeout'), { positive: true });
      const rp = childPath(retries.path, 'retryOn');
      if (typeof field(retries.rec, 'retryOn') === 'string') {
        f.add(rp, 'must be a list, e.g. [5xx, connect-failure] (Istio writes a comma-separated string; Ambit a list)');
      } else {
        f.stringList(field(retries.rec, 'retryOn'), rp, { nonEmpty: true })?.forEach((s, i) => {
          if (!(RETRY_ON as readonly string[]).includes(s) && !/^[1-5]\d\d$/.test(s)) {
            f.add(itemPath(rp, i), `must be one of ${RETRY_ON.join(', ')} or an HTTP status code like "503" (got ${JSON.stringify(s)})`);
          }
        });
      }
    }

    f.duration(field(spec, 'timeout'), 'spec.timeout');

    const fault = sub(f, spec, 'fault', 'spec');
    if (fault.rec) {
      f.onlyKnown(fault.rec, fault.path, ['delay', 'abort']);
      if (field(fault.rec, 'delay') === undefined && field(fault.rec, 'abort') === undefined) f.add(fault.path, 'must set delay or abort');
      const delay = sub(f, fault.rec, 'delay', fault.path);
      if (delay.rec) {
        f.onlyKnown(delay.rec, delay.path, ['fixedDelay', 'percentage']);
        f.duration(field(delay.rec, 'fixedDelay'), childPath(delay.path, 'fixedDelay'), { required: true, positive: true });
        f.percent(field(delay.rec, 'percentage'), childPath(delay.path, 'percentage'));
      }
      const abort = sub(f, fault.rec, 'abort', fault.path);
      if (abort.rec) {
        f.onlyKnown(abort.rec, abort.path, ['httpStatus', 'percentage']);
        f.int(field(abort.rec, 'httpStatus'), childPath(abort.path, 'httpStatus'), { required: true, min: 200, max: 599 });
        f.percent(field(abort.rec, 'percentage'), childPath(abort.path, 'percentage'));
      }
    }

    const rl = sub(f, spec, 'localRateLimit', 'spec');
    if (rl.rec) {
      f.onlyKnown(rl.rec, rl.path, ['maxTokens', 'tokensPerFill', 'fillInterval']);
      f.int(field(rl.rec, 'maxTokens'), childPath(rl.path, 'maxTokens'), { required: true, min: 1 });
      f.int(field(rl.rec, 'tokensPerFill'), childPath(rl.path, 'tokensPerFill'), { min: 1 });
      f.duration(field(rl.rec, 'fillInterval'), childPath(rl.path, 'fillInterval'), { required: true, positive: true });
    }
  });
}
