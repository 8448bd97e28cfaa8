import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateTrafficPolicy } from './traffic-policy.js';

const tp = (spec: Record<string, unknown>, withTarget = true): unknown => ({
  apiVersion: 'ambit.dev/v1alpha1',
  kind: 'TrafficPolicy',
  metadata: { name: 'reviews', namespace: 'shop' },
  spec: withTarget ? { targetRefs: [{ kind: 'Service', name: 'reviews' }], ...spec } : spec,
});
const msgs = (spec: Record<string, unknown>, withTarget = true): string[] => validateTrafficPolicy(tp(spec, withTarget)).map((e) => `${e.path}: ${e.message}`);

describe('TrafficPolicy', () => {
  test('accepts every feature', () => {
    assert.deepEqual(
      msgs({
        loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x-user' } },
        connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequestsPerConnection: 0, connectTimeout: '2s' },
        outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
        retries: { attempts: 3, perTryTimeout: '500ms', retryOn: ['5xx', 'connect-failure', '503'] },
        timeout: '5s',
        fault: { delay: { fixedDelay: '2s', percentage: 10.5 }, abort: { httpStatus: 503, percentage: 5 } },
        localRateLimit: { maxTokens: 100, tokensPerFill: 10, fillInterval: '1s' },
      }),
      [],
    );
    for (const type of ['RoundRobin', 'LeastRequest']) assert.deepEqual(msgs({ loadBalancer: { type } }), []);
  });

  test('targets are required Services of its own namespace', () => {
    assert.deepEqual(msgs({}, false), ['spec.targetRefs: required']);
    assert.deepEqual(msgs({ targetRefs: [{ kind: 'Waypoint', name: 'w' }] }, false), ['spec.targetRefs[0].kind: must be one of Service (got "Waypoint")']);
    assert.deepEqual(msgs({ targetRefs: [{ kind: 'Service', name: 'w', namespace: 'other' }] }, false), [
      `spec.targetRefs[0].namespace: must be the policy's own namespace "shop" (got "other"); a policy cannot target another namespace`,
    ]);
    assert.deepEqual(msgs({ targetRef: { kind: 'Service', name: 'w' } }, false), ['spec.targetRefs: required', 'spec.targetRef: use targetRefs (a list)']);
    assert.deepEqual(validateTrafficPolicy({ apiVersion: 'ambit.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'x' } }), [{ path: 'spec', message: 'required' }]);
  });

  test('load balancer', () => {
    assert.deepEqual(msgs({ loadBalancer: { type: 'Random' } }), ['spec.loadBalancer.type: must be one of RoundRobin, LeastRequest, ConsistentHash (got "Random")']);
    assert.deepEqual(msgs({ loadBalancer: { type: 'ConsistentHash' } }), ['spec.loadBalancer: consistentHash is required with type ConsistentHash and only applies to it']);
    assert.deepEqual(msgs({ loadBalancer: { type: 'RoundRobin', consistentHash: { header: 'x' } } }), [
      'spec.loadBalancer: consistentHash is required with type ConsistentHash and only applies to it',
    ]);
    assert.deepEqual(msgs({ loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'bad header' } } }), [
      'spec.loadBalancer.consistentHash.header: must be an HTTP header name, whose value picks the endpoint (got "bad header")',
    ]);
  });

  test('numbers, percentages and durations', () => {
    assert.deepEqual(msgs({ connectionPool: { maxConnections: 0, connectTimeout: '1 second' } }), [
      'spec.connectionPool.maxConnections: must be at least 1 (got 0)',
      'spec.connectionPool.connectTimeout: must be a duration like "1s", "250ms" or "1m30s" (got "1 second")',
    ]);
    assert.deepEqual(msgs({ outlierDetection: { maxEjectionPercent: 101, interval: '0s' } }), [
      'spec.outlierDetection.interval: must be greater than zero (got "0s")',
      'spec.outlierDetection.maxEjectionPercent: must be between 0 and 100 (got 101)',
    ]);
    assert.deepEqual(msgs({ fault: { delay: { fixedDelay: '1s', percentage: -1 } } }), ['spec.fault.delay.percentage: must be between 0 and 100 (got -1)']);
    assert.deepEqual(msgs({ fault: { abort: { httpStatus: 99 } } }), ['spec.fault.abort.httpStatus: must be between 200 and 599 (got 99)']);
    assert.deepEqual(msgs({ fault: {} }), ['spec.fault: must set at least one of delay, abort']);
    assert.deepEqual(msgs({ timeout: 5 }), ['spec.timeout: must be a duration like "5s" or "1m30s" for the whole request, retries included; "0s" disables it (got 5)']);
    assert.deepEqual(msgs({ timeout: '1.5s' }).map((m) => m.split(' (got')[1]), [' "1.5s")']);
    assert.deepEqual(msgs({ localRateLimit: { maxTokens: 0 } }), ['spec.localRateLimit.fillInterval: required', 'spec.localRateLimit.maxTokens: must be at least 1 (got 0)']);
  });

  test('retries', () => {
    assert.deepEqual(msgs({ retries: {} }), ['spec.retries.attempts: required']);
    assert.deepEqual(msgs({ retries: { attempts: 2, retryOn: '5xx,reset' } }), [
      'spec.retries.retryOn: must be a list, e.g. [5xx, connect-failure] (Istio writes a comma-separated string; Ambit a list)',
    ]);
    assert.match(msgs({ retries: { attempts: 2, retryOn: ['5xx', 'sometimes'] } })[0]!, /^spec\.retries\.retryOn\[1\]: must be one of 5xx, .*, unavailable, or an HTTP status code like "503" \(got "sometimes"\)$/);
  });
});
