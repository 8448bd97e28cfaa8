import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadBalancerPolicy, Service, Workload } from '../../lib/xds/index.js';
import { MeshState } from '../state/mesh-state.js';
import { Resolver, type Target } from './resolve.js';

const pod = (name: string, ip: string): Workload => ({
  uid: `uid-${name}`,
  namespace: 'shop',
  name,
  serviceAccount: 'web',
  node: 'node-a',
  ip,
  meshed: true,
  labels: {},
  workloadName: 'web',
  identity: 'spiffe://cluster.local/ns/shop/sa/web',
  waypoint: null,
});

const IPS = ['10.0.1.1', '10.0.1.2', '10.0.1.3'];

const web = (lbPolicy: LoadBalancerPolicy, ready = [true, true, true]): Service => ({
  namespace: 'shop',
  name: 'web',
  hostname: 'web.shop.svc.cluster.local',
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 8080, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: IPS.map((address, i) => ({ workloadUid: `uid-web-${i}`, address, node: 'node-a', ready: ready[i]!, ports: [{ servicePort: 80, targetPort: 8080 }] })),
  waypoint: null,
  lbPolicy,
  lbHashHeader: lbPolicy === 'CONSISTENT_HASH' ? 'x-user' : '',
  trafficPolicy: null,
});

function setup(lbPolicy: LoadBalancerPolicy): { state: MeshState; resolver: Resolver; pick: () => string } {
  const state = new MeshState();
  assert.deepEqual(state.apply('Workload', IPS.map((ip, i) => pod(`web-${i}`, ip)), []), { ok: true });
  assert.deepEqual(state.apply('Service', [web(lbPolicy)], []), { ok: true });
  const resolver = new Resolver(state);
  const pick = () => {
    const r = resolver.resolve('10.96.0.10', 80);
    assert.ok(!('error' in r), JSON.stringify(r));
    return (r as Target).ip;
  };
  return { state, resolver, pick };
}

describe('Resolver', () => {
  it('balances round robin by default, whatever is open', () => {
    const { resolver, pick } = setup('ROUND_ROBIN');
    resolver.track('10.0.1.1');
    resolver.track('10.0.1.1');
    assert.deepEqual([pick(), pick(), pick(), pick()], ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.1']);
  });

  it('LEAST_REQUEST picks the endpoint with the fewest open connections, ties in turn', () => {
    const { resolver, pick } = setup('LEAST_REQUEST');
    // Nothing stays open: every endpoint in turn, not always the first.
    assert.deepEqual([pick(), pick(), pick(), pick()], ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.1']);
    // Held open: each new connection goes where the fewest are open, so they spread evenly.
    const held = Array.from({ length: 6 }, () => {
      const ip = pick();
      return { ip, release: resolver.track(ip) };
    });
    assert.deepEqual(IPS.map((ip) => held.filter((h) => h.ip === ip).length), [2, 2, 2]);
    // Two closed on one endpoint: it takes the next connections until it has caught up.
    for (const h of held.filter((x) => x.ip === '10.0.1.3')) h.release();
    const next = pick();
    const release = resolver.track(next);
    assert.deepEqual([next, pick()], ['10.0.1.3', '10.0.1.3']);
    release();
    for (const h of held) h.release();
  });

  it('LEAST_REQUEST sends every new connection away from the endpoint that holds one', () => {
    const { resolver, pick } = setup('LEAST_REQUEST');
    const release = resolver.track('10.0.1.2');
    const picks = Array.from({ length: 6 }, pick);
    assert.ok(!picks.includes('10.0.1.2'), picks.join(', '));
    assert.deepEqual(new Set(picks), new Set(['10.0.1.1', '10.0.1.3']), 'the others in turn');
    release();
    release(); // idempotent: the count does not go below zero
    const again = resolver.track('10.0.1.1');
    assert.notEqual(pick(), '10.0.1.1');
    again();
  });

  it('balances CONSISTENT_HASH round robin: hashing a header needs a waypoint', () => {
    const { resolver, pick } = setup('CONSISTENT_HASH');
    resolver.track('10.0.1.1');
    assert.deepEqual([pick(), pick(), pick()], IPS);
  });

  it('reads the policy of each resolution from the pushed Service', () => {
    const { state, resolver, pick } = setup('ROUND_ROBIN');
    resolver.track('10.0.1.1');
    resolver.track('10.0.1.2');
    assert.deepEqual([pick(), pick()], ['10.0.1.1', '10.0.1.2']);
    state.apply('Service', [web('LEAST_REQUEST')], []);
    assert.deepEqual([pick(), pick()], ['10.0.1.3', '10.0.1.3'], 'the one endpoint with nothing open');
    state.apply('Service', [web('ROUND_ROBIN')], []);
    assert.notEqual(pick(), pick());
  });

  it('skips endpoints that are not ready, and fails with none', () => {
    const { state, resolver, pick } = setup('LEAST_REQUEST');
    state.apply('Service', [web('LEAST_REQUEST', [false, true, false])], []);
    resolver.track('10.0.1.2');
    assert.deepEqual([pick(), pick()], ['10.0.1.2', '10.0.1.2']);
    state.apply('Service', [web('LEAST_REQUEST', [false, false, false])], []);
    assert.deepEqual(resolver.resolve('10.96.0.10', 80), { error: 'no ready endpoint of shop/web for port 80' });
    assert.deepEqual(resolver.resolve('10.96.0.10', 81), { error: 'no ready endpoint of shop/web for port 81' });
  });

  it('passes a pod IP or an unknown address through', () => {
    const { resolver } = setup('LEAST_REQUEST');
    const r = resolver.resolve('10.0.1.3', 8080) as Target;
    assert.deepEqual([r.ip, r.port, r.workload?.name, r.service], ['10.0.1.3', 8080, 'web-2', undefined]);
    assert.deepEqual(resolver.resolve('192.0.2.1', 443), { ip: '192.0.2.1', port: 443, workload: undefined, service: undefined });
  });
});
