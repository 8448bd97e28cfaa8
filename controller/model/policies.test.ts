import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationPolicy as Cr } from '../../lib/crds/index.js';
import { compileAuthorizationPolicy, compilePeerAuthentication } from './policies.js';

const ap = (spec: Cr['spec'], ns = 'shop'): Cr => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: ns }, spec });

describe('policy compilation', () => {
  it('keeps Istio rule-list semantics: no rules matches nothing, one empty rule matches everything', () => {
    assert.deepEqual(compileAuthorizationPolicy(ap({}), 'ambit-system').rules, []);
    assert.deepEqual(compileAuthorizationPolicy(ap({ rules: [{}] }), 'ambit-system').rules, [{ from: [], to: [], when: [], l7When: [], hasL7: false }]);
  });

  it('derives the scope', () => {
    assert.equal(compileAuthorizationPolicy(ap({}), 'ambit-system').scope, 'NAMESPACE');
    assert.equal(compileAuthorizationPolicy(ap({}, 'ambit-system'), 'ambit-system').scope, 'MESH');
    assert.equal(compileAuthorizationPolicy(ap({ selector: { matchLabels: { a: 'b' } } }, 'ambit-system'), 'ambit-system').scope, 'WORKLOAD_SELECTOR');
    const t = compileAuthorizationPolicy(ap({ targetRefs: [{ kind: 'Waypoint', name: 'wp' }] }), 'ambit-system');
    assert.equal(t.scope, 'TARGET_REFS');
    assert.deepEqual(t.targetRefs, [{ group: 'ambit.dev', kind: 'Waypoint', name: 'wp' }]);
  });

  it('keeps L7 fields (for waypoints), request conditions apart from the L4 ones, and flags the rule', () => {
    const p = compileAuthorizationPolicy(
      ap({ action: 'DENY', rules: [{ to: [{ operation: { ports: [443], methods: ['POST'] } }], when: [{ key: 'request.headers[x-user]', values: ['bob'] }, { key: 'source.principal', values: ['spiffe://cluster.local/ns/a/sa/b'] }] }] }),
      'ambit-system',
    );
    assert.deepEqual(p.rules, [
      {
        from: [],
        to: [{ ports: [443], notPorts: [], methods: ['POST'], notMethods: [], paths: [], notPaths: [], hosts: [], notHosts: [] }],
        when: [{ key: 'source.principal', values: ['cluster.local/ns/a/sa/b'], notValues: [] }],
        l7When: [{ key: 'request.headers[x-user]', values: ['bob'], notValues: [] }],
        hasL7: true,
      },
    ]);
    assert.equal(p.hasL7, true);
    assert.equal(p.action, 'DENY');
  });

  it('compiles PeerAuthentication modes and port overrides', () => {
    const pa = compilePeerAuthentication(
      { apiVersion: 'ambit.dev/v1alpha1', kind: 'PeerAuthentication', metadata: { name: 'x', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'db' } }, portLevelMtls: { '9090': { mode: 'PERMISSIVE' }, '80': { mode: 'STRICT' } } } },
      'ambit-system',
    );
    assert.deepEqual(pa, { namespace: 'shop', name: 'x', scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'db' } }, mode: 'UNSET', portLevelMtls: [{ port: 80, mode: 'STRICT' }, { port: 9090, mode: 'PERMISSIVE' }] });
  });
});
