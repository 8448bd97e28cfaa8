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

  test('targetRefs and selector are exclusive; targets are Services or Waypoints of its own namespace', () => {
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Service', name: 'a' }], selector: { matchLabels: { a: 'b' } } }), ['spec: set only one of targetRefs, selector']);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Deployment', name: 'a' }] }), [
      'spec.targetRefs[0].kind: must be one of Service, Waypoint (got "Deployment")',
    ]);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Waypoint', group: '', name: 'wp' }] }), [
      'spec.targetRefs[0]: group must be "" for kind Service and "ambit.dev" for kind Waypoint',
    ]);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Service', name: 'a', namespace: 'other' }] }), [
      `spec.targetRefs[0].namespace: must be the policy's own namespace "shop" (got "other"); a policy cannot target another namespace`,
    ]);
    assert.deepEqual(messages({ targetRefs: [] }), ['spec.targetRefs: must not be empty']);
    assert.deepEqual(messages({ targetRefs: [{ kind: 'Service', name: 'a' }, { kind: 'Service', name: 'a' }] }), ['spec.targetRefs[1]: targets must not repeat (the same kind and name twice)']);
    assert.deepEqual(messages({ targetRef: { kind: 'Service', name: 'a' } }), ['spec.targetRef: use targetRefs (a list)']);
    assert.deepEqual(messages({ provider: { name: 'opa' } }), ['spec.provider: not supported: Ambit has no CUSTOM (external) authorization']);
    assert.deepEqual(messages({ selector: { matchLabels: {} } }), ['spec.selector.matchLabels: must not be empty; omit the selector to select every workload']);
    assert.deepEqual(messages({ selector: { matchLabels: { app: 1 } } }), ['spec.selector.matchLabels.app: must be a label value (letters, digits, "-", "_" and ".", beginning and ending with a letter or digit), or empty (got 1; quote it if it is meant as text: "1")']);
    assert.deepEqual(messages({ selector: { matchLabels: { 'my app': 'x' } } }), ['spec.selector.matchLabels["my app"]: label keys must be qualified names ([prefix/]name)']);
  });

  test('sources: shape and values', () => {
    const rule = (source: unknown): unknown => ({ rules: [{ from: [{ source }] }] });
    assert.deepEqual(messages(rule({})), [
      'spec.rules[0].from[0].source: must set at least one of principals, notPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks; remove "from" to match any source',
    ]);
    assert.deepEqual(messages({ rules: [{ from: [{}] }] }), ['spec.rules[0].from[0].source: required']);
    assert.deepEqual(messages(rule({ principal: ['a'] })), ['spec.rules[0].from[0].source.principal: unknown field; did you mean "principals"?']);
    assert.deepEqual(messages(rule({ ipBlocks: ['10.0.0.0/8', '10.0.0.300', 'x'] })), [
      'spec.rules[0].from[0].source.ipBlocks[1]: must be an IPv4 or IPv6 address or CIDR, like "10.0.0.0/16" (got "10.0.0.300")',
      'spec.rules[0].from[0].source.ipBlocks[2]: must be an IPv4 or IPv6 address or CIDR, like "10.0.0.0/16" (got "x")',
    ]);
    // The schema is loose on IPv6; the code parses it.
    assert.deepEqual(messages(rule({ notIpBlocks: ['fd00::/64', ':::1'] })), ['spec.rules[0].from[0].source.notIpBlocks[1]: must be an IP address or CIDR like "10.0.0.0/16" (got ":::1")']);
    assert.deepEqual(messages(rule({ principals: 'cluster.local/ns/a/sa/b' })), ['spec.rules[0].from[0].source.principals: must be a list (got "cluster.local/ns/a/sa/b")']);
    assert.deepEqual(messages(rule({ principals: [] })), ['spec.rules[0].from[0].source.principals: must not be empty']);
    assert.deepEqual(paths(rule({ principals: ['cluster.local/ns/a', '*a*', 'td/ns/a/sa/b'] })), ['spec.rules[0].from[0].source.principals[0]', 'spec.rules[0].from[0].source.principals[1]']);
    assert.match(messages(rule({ principals: ['cluster.local/ns/a'] }))[0]!, /must be a peer identity like "cluster.local\/ns\/default\/sa\/web"/);
    assert.deepEqual(paths(rule({ namespaces: ['Bad_NS'] })), ['spec.rules[0].from[0].source.namespaces[0]']);
    assert.deepEqual(messages(rule({ requestPrincipals: ['x'] })), ['spec.rules[0].from[0].source.requestPrincipals: not supported: Ambit has no request authentication (JWT)']);
    assert.match(messages(rule({ remoteIpBlocks: ['1.2.3.4'] }))[0]!, /remoteIpBlocks: not supported: .* use ipBlocks$/);
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
    assert.deepEqual(messages(rule({})), [
      'spec.rules[0].to[0].operation: must set at least one of ports, notPorts, methods, notMethods, paths, notPaths, hosts, notHosts; remove "to" to match any operation',
    ]);
    const port = 'must be a port number 1..65535, as a number or a string of digits';
    assert.deepEqual(messages(rule({ ports: [0, '65536', 'http', true, 443, '0080'] })), [
      'spec.rules[0].to[0].operation.ports[0]: must be between 1 and 65535 (got 0)',
      `spec.rules[0].to[0].operation.ports[1]: ${port} (got "65536")`,
      `spec.rules[0].to[0].operation.ports[2]: ${port} (got "http")`,
      `spec.rules[0].to[0].operation.ports[3]: ${port} (got true)`,
    ]);
    assert.deepEqual(messages(rule({ methods: ['get'] })), [
      'spec.rules[0].to[0].operation.methods[0]: must be an HTTP method in upper case like "GET", or a pattern with one "*" as its prefix or suffix (got "get")',
    ]);
    assert.deepEqual(paths(rule({ paths: ['api', '/a*b', '/ok/{*}', '*.png'] })), ['spec.rules[0].to[0].operation.paths[0]', 'spec.rules[0].to[0].operation.paths[1]']);
    assert.deepEqual(paths(rule({ hosts: ['*.example.*', 'a b', 'api.*'] })), ['spec.rules[0].to[0].operation.hosts[0]', 'spec.rules[0].to[0].operation.hosts[1]']);
  });

  test('conditions', () => {
    const when = (cond: unknown): unknown => ({ rules: [{ when: [cond] }] });
    assert.deepEqual(messages(when({ key: 'source.ip' })), ['spec.rules[0].when[0]: must set values or notValues']);
    assert.deepEqual(messages(when({ values: ['a'] })), ['spec.rules[0].when[0].key: required']);
    assert.match(messages(when({ key: 'foo.bar', values: ['a'] }))[0]!, /^spec\.rules\[0\]\.when\[0\]\.key: must be one of source\.ip, .*request\.headers\[<name>\] \(got "foo\.bar"\)$/);
    assert.deepEqual(messages(when({ key: 'request.auth.claims[iss]', values: ['x'] })), ['spec.rules[0].when[0].key: "request.auth.claims[iss]" is not supported: Ambit has no request authentication (JWT)']);
    assert.deepEqual(messages(when({ key: 'source.ip', values: ['not-an-ip'] })), ['spec.rules[0].when[0].values[0]: must be an IP address or CIDR like "10.0.0.0/16" (got "not-an-ip")']);
    assert.deepEqual(paths(when({ key: 'destination.port', notValues: ['99999'] })), ['spec.rules[0].when[0].notValues[0]']);
    assert.deepEqual(paths(when({ key: 'source.principal', values: ['nope'] })), ['spec.rules[0].when[0].values[0]']);
    assert.deepEqual(paths(when({ key: 'request.headers[bad header]', values: ['a'] })), ['spec.rules[0].when[0].key']);
    assert.deepEqual(validateAuthorizationPolicy(policy(when({ key: 'request.headers[:authority]', values: ['a'] }))), []);
    assert.deepEqual(messages(when({ key: 'source.namespace', values: ['ns'], extra: 1 })), ['spec.rules[0].when[0].extra: unknown field (known fields: key, values, notValues)']);
    assert.deepEqual(messages(when({ key: 'request.headers[x]', values: [''] })), ['spec.rules[0].when[0].values[0]: must not be empty']);
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
