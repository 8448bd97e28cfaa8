import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isL7Rule, normalizePrincipal, principalProblem, validateAuthorizationPolicy } from './authorization-policy.js';

const policy = (spec: unknown, namespace = 'shop'): unknown => ({
  apiVersion: 'ambit.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace },
  spec,
});

const paths = (spec: unknown): string[] => validateAuthorizationPolicy(policy(spec)).map((e) => e.path);
const messages = (spec: unknown): string[] => validateAuthorizationPolicy(policy(spec)).map((e) => `${e.path}: ${e.message}`);

describe('AuthorizationPolicy', () => {
  test('accepts a full Istio-style policy', () => {
    const spec = {
      targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }, { kind: 'Waypoint', group: 'ambit.dev', name: 'waypoint' }],
      action: 'ALLOW',
      rules: [
        {
          from: [
            { source: { principals: ['cluster.local/ns/shop/sa/frontend', 'spiffe://cluster.local/ns/ops/sa/*'] } },
            { source: { namespaces: ['shop', 'team-*'], notIpBlocks: ['10.0.0.0/8'], ipBlocks: ['10.244.1.7', 'fd00::/64'] } },
          ],
          to: [{ operation: { ports: ['9080', 8080], methods: ['GET', 'HEAD'], paths: ['/api/*', '/health', '*/info'], hosts: ['*.shop.svc'] } }],
          when: [
            { key: 'request.headers[x-user]', values: ['alice'] },
            { key: 'source.ip', notValues: ['10.244.2.0/24'] },
            { key: 'destination.port', values: ['9080'] },
          ],
        },
        {},
      ],
    };
    assert.deepEqual(validateAuthorizationPolicy(policy(spec)), []);
  });

  test('empty spec, selector form and every action are valid', () => {
    assert.deepEqual(validateAuthorizationPolicy(policy(undefined)), []);
    assert.deepEqual(validateAuthorizationPolicy(policy({})), []);
    for (const action of ['ALLOW', 'DENY', 'AUDIT']) {
      assert.deepEqual(validateAuthorizationPolicy(policy({ action, selector: { matchLabels: { app: 'web' } } })), [], action);
    }
  });

  test('action enum', () => {
    assert.deepEqual(messages({ action: 'CUSTOM' }), ['spec.action: must be one of ALLOW, DENY, AUDIT (got "CUSTOM")']);
    assert.deepEqual(messages({ action: 'allow' }), ['spec.action: must be one of ALLOW, DENY, AUDIT (got "allow"; did you mean "ALLOW"?)']);
  });

  test('targetRefs and selector are exclusive; targets are Services or Waypoints here', () => {
    assert.deepEqual(paths({ targetRefs: [{ kind: 'Service', name: 'a' }], selector: { matchLabels: { a: 'b' } } }), ['spec']);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Deployment', name: 'a' }] }), [
      'spec.targetRefs[0].kind: must be one of Service, Waypoint (got "Deployment")',
    ]);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Waypoint', group: '', name: 'wp' }] }), [
      'spec.targetRefs[0].group: must be "ambit.dev" for kind Waypoint (got "")',
    ]);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Service', name: 'a', namespace: 'other' }] }), [
      `spec.targetRefs[0].namespace: must be the policy's own namespace "shop" (got "other"); a policy cannot target another namespace`,
    ]);
    assert.deepEqual(paths({ targetRefs: [] }), ['spec.targetRefs']);
    assert.deepEqual(paths({ targetRefs: [{ kind: 'Service', name: 'a' }, { kind: 'Service', name: 'a' }] }), ['spec.targetRefs[1]']);
    assert.deepEqual(paths({ targetRef: { kind: 'Service', name: 'a' } }), ['spec.targetRef']);
    assert.deepEqual(paths({ selector: { matchLabels: {} } }), ['spec.selector.matchLabels']);
    assert.deepEqual(paths({ selector: { matchLabels: { app: 1 } } }), ['spec.selector.matchLabels.app']);
  });

  test('sources: shape and values', () => {
    const rule = (source: unknown): unknown => ({ rules: [{ from: [{ source }] }] });
    assert.deepEqual(paths(rule({})), ['spec.rules[0].from[0].source']);
    assert.deepEqual(paths({ rules: [{ from: [{}] }] }), ['spec.rules[0].from[0].source']);
    assert.deepEqual(messages(rule({ principal: ['a'] })), [
      'spec.rules[0].from[0].source.principal: unknown field; did you mean "principals"?',
      'spec.rules[0].from[0].source: must set at least one of principals, notPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks; remove "from" to match any source',
    ]);
    assert.deepEqual(paths(rule({ ipBlocks: ['10.0.0.0/8', '10.0.0.300', 'x'] })), ['spec.rules[0].from[0].source.ipBlocks[1]', 'spec.rules[0].from[0].source.ipBlocks[2]']);
    assert.deepEqual(paths(rule({ principals: 'cluster.local/ns/a/sa/b' })), ['spec.rules[0].from[0].source.principals']);
    assert.deepEqual(paths(rule({ principals: [] })), ['spec.rules[0].from[0].source.principals']);
    assert.deepEqual(paths(rule({ namespaces: ['Bad_NS'] })), ['spec.rules[0].from[0].source.namespaces[0]']);
    assert.match(messages(rule({ requestPrincipals: ['x'] }))[0]!, /requestPrincipals: not supported: Ambit has no request authentication/);
    assert.match(messages(rule({ remoteIpBlocks: ['1.2.3.4'] }))[0]!, /use ipBlocks/);
  });

  test('principals shape', () => {
    for (const ok of ['cluster.local/ns/a/sa/b', 'spiffe://td/ns/a/sa/b', '*', '*/ns/a/sa/b', 'cluster.local/ns/a/*']) assert.equal(principalProblem(ok), undefined, ok);
    for (const bad of ['a', 'cluster.local/ns/a', 'cluster.local/sa/b/ns/a', 'a*b', '*a*', 'cluster.local/ns/a/sa/b c', 'td/ns//sa/b']) {
      assert.notEqual(principalProblem(bad), undefined, bad);
    }
    assert.equal(normalizePrincipal('spiffe://td/ns/a/sa/b'), 'td/ns/a/sa/b');
  });

  test('operations: ports, methods, paths', () => {
    const rule = (operation: unknown): unknown => ({ rules: [{ to: [{ operation }] }] });
    assert.deepEqual(paths(rule({})), ['spec.rules[0].to[0].operation']);
    assert.deepEqual(paths(rule({ ports: [0, '65536', 'http', true, 443] })), [
      'spec.rules[0].to[0].operation.ports[0]',
      'spec.rules[0].to[0].operation.ports[1]',
      'spec.rules[0].to[0].operation.ports[2]',
      'spec.rules[0].to[0].operation.ports[3]',
    ]);
    assert.deepEqual(messages(rule({ methods: ['get'] })), [
      'spec.rules[0].to[0].operation.methods[0]: must be an HTTP method in upper case, like "GET" (got "get")',
    ]);
    assert.deepEqual(paths(rule({ paths: ['api', '/a*b', '/ok/{*}'] })), ['spec.rules[0].to[0].operation.paths[0]', 'spec.rules[0].to[0].operation.paths[1]']);
  });

  test('conditions', () => {
    const when = (cond: unknown): unknown => ({ rules: [{ when: [cond] }] });
    assert.deepEqual(paths(when({ key: 'source.ip' })), ['spec.rules[0].when[0]']);
    assert.deepEqual(paths(when({ values: ['a'] })), ['spec.rules[0].when[0].key']);
    assert.match(messages(when({ key: 'foo.bar', values: ['a'] }))[0]!, /unsupported condition key "foo.bar"; supported: source.ip/);
    assert.deepEqual(paths(when({ key: 'source.ip', values: ['not-an-ip'] })), ['spec.rules[0].when[0].values[0]']);
    assert.deepEqual(paths(when({ key: 'destination.port', notValues: ['99999'] })), ['spec.rules[0].when[0].notValues[0]']);
    assert.deepEqual(paths(when({ key: 'source.principal', values: ['nope'] })), ['spec.rules[0].when[0].values[0]']);
    assert.deepEqual(paths(when({ key: 'request.headers[bad header]', values: ['a'] })), ['spec.rules[0].when[0].key']);
    assert.deepEqual(validateAuthorizationPolicy(policy(when({ key: 'request.headers[:authority]', values: ['a'] }))), []);
    assert.deepEqual(paths(when({ key: 'source.namespace', values: ['ns'], extra: 1 })), ['spec.rules[0].when[0].extra']);
  });

  test('L7 rule detection', () => {
    assert.equal(isL7Rule({ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: ['80'] } }] }), false);
    assert.equal(isL7Rule({ to: [{ operation: { methods: ['GET'] } }] }), true);
    assert.equal(isL7Rule({ when: [{ key: 'request.headers[x]', values: ['1'] }] }), true);
    assert.equal(isL7Rule({ when: [{ key: 'source.ip', values: ['1.2.3.4'] }] }), false);
    assert.equal(isL7Rule(null), false);
    assert.equal(isL7Rule({ to: 'x', when: 3 }), false);
  });
});
