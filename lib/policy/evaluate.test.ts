import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize, type ConnectionAttributes, type PolicyRef } from './evaluate.js';

const conn: ConnectionAttributes = {
  sourcePrincipal: 'cluster.local/ns/front/sa/web',
  sourceNamespace: 'front',
  sourceIp: '10.244.1.5',
  destinationIp: '10.244.2.7',
  destinationPort: 8080,
};
const policy = (action: PolicyRef['action'], rules: PolicyRef['rules'], name = action.toLowerCase()): PolicyRef => ({
  namespace: 'back',
  name,
  action,
  rules,
});

describe('authorization (Istio semantics)', () => {
  it('allows when no policy applies', () => {
    assert.deepEqual(authorize([], conn), { allowed: true, reason: 'no-policy', audited: [] });
  });

  it('an ALLOW policy admits only what it matches', () => {
    const allowWeb = policy('ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/front/sa/web'] } }] }]);
    assert.equal(authorize([allowWeb], conn).allowed, true);
    assert.equal(authorize([allowWeb], { ...conn, sourcePrincipal: 'cluster.local/ns/front/sa/other' }).allowed, false);
    assert.equal(authorize([allowWeb], { ...conn, sourcePrincipal: undefined }).allowed, false, 'plaintext has no principal');
    // spiffe:// prefixes on either side compare equal.
    const spiffe = policy('ALLOW', [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/front/sa/*'] } }] }]);
    assert.equal(authorize([spiffe], conn).allowed, true);
  });

  it('an ALLOW policy with no rules denies everything; an empty rule allows everything', () => {
    assert.equal(authorize([policy('ALLOW', [])], conn).allowed, false);
    assert.equal(authorize([policy('ALLOW', [{}])], conn).allowed, true);
  });

  it('DENY wins over ALLOW', () => {
    const allowAll = policy('ALLOW', [{}]);
    const denyPort = policy('DENY', [{ to: [{ operation: { ports: ['8080'] } }] }]);
    const d = authorize([allowAll, denyPort], conn);
    assert.deepEqual([d.allowed, d.reason, d.policy], [false, 'denied', 'back/deny']);
    assert.equal(authorize([allowAll, denyPort], { ...conn, destinationPort: 9090 }).allowed, true);
  });

  it('matches namespaces, ip blocks, not-fields and conditions', () => {
    const p = policy('ALLOW', [
      {
        from: [{ source: { namespaces: ['fr*'], notIpBlocks: ['10.244.9.0/24'] } }],
        to: [{ operation: { notPorts: [22] } }],
        when: [{ key: 'source.ip', values: ['10.244.1.0/24'] }],
      },
    ]);
    assert.equal(authorize([p], conn).allowed, true);
    assert.equal(authorize([p], { ...conn, sourceNamespace: 'back' }).allowed, false);
    assert.equal(authorize([p], { ...conn, sourceIp: '10.244.9.1' }).allowed, false);
    assert.equal(authorize([p], { ...conn, destinationPort: 22 }).allowed, false);
    assert.equal(authorize([p], { ...conn, sourceIp: '10.244.3.1' }).allowed, false);
  });

  it('fails closed on HTTP fields at L4: they grant nothing in ALLOW and deny more in DENY', () => {
    const allowGet = policy('ALLOW', [{ to: [{ operation: { methods: ['GET'] } }] }]);
    assert.equal(authorize([allowGet], conn).allowed, false);
    const denyPost = policy('DENY', [{ to: [{ operation: { methods: ['POST'] } }] }]);
    assert.equal(authorize([denyPost], conn).allowed, false);
    // With the request (at a waypoint) they are evaluated.
    const req = { method: 'GET', path: '/', host: 'web', headers: {} };
    assert.equal(authorize([allowGet], conn, req).allowed, true);
    assert.equal(authorize([denyPost], conn, req).allowed, true);
  });

  it('AUDIT only flags', () => {
    const d = authorize([policy('AUDIT', [{ from: [{ source: { namespaces: ['front'] } }] }])], conn);
    assert.deepEqual(d, { allowed: true, reason: 'no-policy', audited: ['back/audit'] });
  });
});
