import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from '../../lib/token-bucket.js';
import type { Service } from '../../lib/xds/index.js';
import { rateLimiter, Resilience } from './services.js';

/** A Service limited to one request per minute. */
const limited = (name: string): Service => ({
  namespace: 'shop',
  name,
  hostname: `${name}.shop.svc.cluster.local`,
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: [],
  waypoint: null,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: { name: `shop/${name}`, connectionPool: null, outlierDetection: null, retries: null, timeoutMs: 0, fault: null, localRateLimit: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 } },
});

describe('the resilience state of Services', () => {
  test("a Service's rate limit: a bucket only for a positive maxTokens", () => {
    assert.equal(rateLimiter(null), undefined);
    assert.equal(rateLimiter(undefined), undefined);
    assert.equal(rateLimiter({ maxTokens: 0, tokensPerFill: 1, fillIntervalMs: 100 }), undefined);
    const b = rateLimiter({ maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 100 });
    assert.ok(b instanceof TokenBucket);
    assert.deepEqual([b.take(), b.take(), b.take()], [true, true, false]);
  });

  test('outlives a re-push of the same Service, not its deletion', () => {
    const config = { generation: 1, services: new Map<string, Service>() };
    const put = (s: Service) => {
      config.services.set(s.name, s);
      config.generation++;
    };
    const r = new Resilience(() => [], { get generation() { return config.generation; }, service: (_ns, name) => config.services.get(name) });
    put(limited('web'));
    put(limited('api'));
    assert.deepEqual([r.admit(config.services.get('web')!), r.admit(config.services.get('web')!)], [true, false], 'one token a minute');
    put(limited('web'));
    assert.equal(r.admit(config.services.get('web')!), false, 'the same limit pushed again keeps the spent bucket');
    config.services.delete('web');
    config.generation++;
    assert.equal(r.admit(config.services.get('api')!), true, 'any request after the deletion drops its state');
    put(limited('web'));
    assert.equal(r.admit(config.services.get('web')!), true, 'created again, it starts with a full bucket');
  });
});
