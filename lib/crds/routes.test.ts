import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateGRPCRoute } from './grpc-route.js';
import { validateHTTPRoute } from './http-route.js';

const parent = { group: '', kind: 'Service', name: 'reviews', port: 9080 };
const http = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { parentRefs: [parent], ...spec },
});
const msgs = (spec: Record<string, unknown>): string[] => validateHTTPRoute(http(spec)).map((e) => `${e.path}: ${e.message}`);
const rule = (r: Record<string, unknown>): Record<string, unknown> => ({ rules: [{ backendRefs: [{ name: 'reviews-v1', port: 9080 }], ...r }] });

describe('HTTPRoute', () => {
  test('accepts a GAMMA route with every supported feature', () => {
    const spec = {
      hostnames: ['reviews.shop.svc.cluster.local', '*.example.com'],
      rules: [
        {
          name: 'canary',
          matches: [
            { path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'yes' }, { type: 'RegularExpression', name: 'x-user', value: '^a.*' }], method: 'GET' },
            { queryParams: [{ name: 'debug', value: '1' }] },
          ],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 9080 }, percent: 10 } },
          ],
          backendRefs: [
            { name: 'reviews-v1', port: 9080, weight: 90 },
            { group: '', kind: 'Service', name: 'reviews-v2', port: 9080, weight: 10, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-v', value: '2' }] } }] },
          ],
          timeouts: { request: '10s', backendRequest: '2s' },
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'new.shop', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }],
          backendRefs: [{ name: 'reviews-v1', port: 9080 }],
        },
        { matches: [{ path: { type: 'Exact', value: '/moved' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301, path: { type: 'ReplaceFullPath', replaceFullPath: '/here' } } }] },
        { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 }, fraction: { numerator: 1, denominator: 3 } } }], backendRefs: [{ name: 'x', port: 1 }] },
      ],
    };
    assert.deepEqual(msgs(spec), []);
  });

  test('parents must be Services (GAMMA)', () => {
    assert.deepEqual(msgs({ parentRefs: [{ name: 'gw' }] }), [
      'spec.parentRefs[0].kind: must be Service: Ambit routes attach to Services (GAMMA), so set kind: Service and group: "" (got nothing, which means Gateway)',
    ]);
    assert.deepEqual(msgs({ parentRefs: [{ kind: 'Service', name: 'svc' }] }), [
      'spec.parentRefs[0].group: must be "" for a Service parent (when omitted it means gateway.networking.k8s.io)',
    ]);
    assert.deepEqual(msgs({ parentRefs: [] }), ['spec.parentRefs: must not be empty']);
    assert.deepEqual(msgs({ parentRefs: [parent, parent] }), ['spec.parentRefs[1]: duplicates another parentRef']);
    const noParents = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: {} };
    assert.deepEqual(validateHTTPRoute(noParents), [{ path: 'spec.parentRefs', message: 'required' }]);
  });

  test('matches', () => {
    assert.deepEqual(msgs(rule({ matches: [{ path: { type: 'Prefix', value: '/' } }] })), [
      'spec.rules[0].matches[0].path.type: must be one of Exact, PathPrefix, RegularExpression (got "Prefix")',
    ]);
    assert.deepEqual(msgs(rule({ matches: [{ path: { value: 'api' } }] })), ['spec.rules[0].matches[0].path.value: must start with "/" (got "api")']);
    assert.deepEqual(msgs(rule({ matches: [{ path: { value: '/a//b' } }] })), ['spec.rules[0].matches[0].path.value: must not contain "//"']);
    assert.match(msgs(rule({ matches: [{ path: { type: 'RegularExpression', value: '([' } }] }))[0]!, /path\.value: is not a valid RE2 regular expression \(missing \]: \[\)$/);
    assert.deepEqual(msgs(rule({ matches: [{ method: 'get' }] })).length, 1);
    assert.deepEqual(msgs(rule({ matches: [{ headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }] })), [
      'spec.rules[0].matches[0].headers[1].name: duplicates header "x-a" in the same match',
    ]);
    assert.deepEqual(msgs(rule({ matches: [{ headers: [{ name: 'bad name', value: '1' }] }] })), [
      'spec.rules[0].matches[0].headers[0].name: must be an HTTP header name (got "bad name")',
    ]);
  });

  test('filters carry exactly the config their type names', () => {
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestHeaderModifier' }] })), ['spec.rules[0].filters[0].requestHeaderModifier: required']);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: {}, urlRewrite: {} }] })), [
      'spec.rules[0].filters[0].urlRewrite: must not be set when type is RequestHeaderModifier',
    ]);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'ExtensionRef', extensionRef: {} }] })), ['spec.rules[0].filters[0].type: ExtensionRef is not supported by Ambit']);
    assert.deepEqual(
      msgs(rule({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: {} }, { type: 'RequestHeaderModifier', requestHeaderModifier: {} }] })),
      ['spec.rules[0].filters: RequestHeaderModifier may appear only once'],
    );
    assert.deepEqual(
      msgs(rule({ filters: [{ type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: {} }] })),
      ['spec.rules[0].filters: RequestRedirect and URLRewrite cannot be used together'],
    );
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }] })), [
      'spec.rules[0].filters[0].requestRedirect.statusCode: must be one of 301, 302, 303, 307, 308 (got 304)',
    ]);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'a', value: 1 }] } }] })), [
      'spec.rules[0].filters[0].requestHeaderModifier.set[0].value: must be a string (got 1; quote it if it is meant as text: "1")',
    ]);
  });

  test('ReplacePrefixMatch needs exactly one PathPrefix match', () => {
    const rewrite = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } };
    assert.deepEqual(msgs(rule({ filters: [rewrite] })), []);
    assert.deepEqual(msgs(rule({ filters: [rewrite], matches: [{ path: { type: 'Exact', value: '/a' } }] })), [
      'spec.rules[0].filters: ReplacePrefixMatch needs exactly one match, and its path type must be PathPrefix',
    ]);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replaceFullPath: '/x' } } }] })), [
      'spec.rules[0].filters[0].urlRewrite.path.replaceFullPath: must not be set when type is ReplacePrefixMatch',
      'spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch: required',
    ]);
  });

  test('mirrors and backends', () => {
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's' } } }] })), [
      'spec.rules[0].filters[0].requestMirror.backendRef.port: required',
    ]);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 1 }, percent: 5, fraction: { numerator: 1 } } }] })), [
      'spec.rules[0].filters[0].requestMirror: set only one of percent, fraction',
    ]);
    assert.deepEqual(msgs(rule({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 1 }, fraction: { numerator: 5, denominator: 2 } } }] })), [
      'spec.rules[0].filters[0].requestMirror.fraction: numerator (5) must not exceed denominator (2)',
    ]);
    assert.deepEqual(msgs({ rules: [{ backendRefs: [{ name: 'a', port: 80, weight: -1 }, { group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'b' }, { name: 'c' }] }] }), [
      'spec.rules[0].backendRefs[0].weight: must be between 0 and 1000000 (got -1)',
      'spec.rules[0].backendRefs[2].port: required',
    ], 'another kind is valid (an unresolved reference, InvalidKind, in status) and needs no port');
    assert.deepEqual(msgs({ rules: [{ backendRefs: [{ group: 'not a group', kind: '', name: 'b', port: 80 }] }] }).length, 2);
    assert.deepEqual(msgs({ rules: [{ backendRefs: [{ name: 'a', port: 80, filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'b', port: 1 } } }] }] }] }), [
      'spec.rules[0].backendRefs[0].filters[0].type: must be one of RequestHeaderModifier, ResponseHeaderModifier (got "RequestMirror")',
    ]);
  });

  test('timeouts and unsupported experimental fields', () => {
    assert.deepEqual(msgs(rule({ timeouts: { request: '1s', backendRequest: '2s' } })), ['spec.rules[0].timeouts.backendRequest: must not be longer than the request timeout (1s)']);
    assert.deepEqual(msgs(rule({ timeouts: { request: '0s', backendRequest: '2s' } })), []);
    assert.deepEqual(msgs(rule({ timeouts: { request: '10' } })).length, 1);
    assert.deepEqual(msgs(rule({ retry: { attempts: 2 } })), ['spec.rules[0].retry: not supported here: set retries in a TrafficPolicy for the Service']);
    assert.deepEqual(msgs({ rules: [{ name: 'a' }, { name: 'a' }] }), ['spec.rules[1].name: duplicates another rule name "a"']);
    assert.deepEqual(msgs({ hostnames: ['Bad.Host'] }), ['spec.hostnames[0]: must be a lower-case DNS name, optionally starting with "*." (got "Bad.Host")']);
  });
});

describe('GRPCRoute', () => {
  const grpc = (spec: Record<string, unknown>): unknown => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'g' },
    spec: { parentRefs: [parent], ...spec },
  });
  const gmsgs = (spec: Record<string, unknown>): string[] => validateGRPCRoute(grpc(spec)).map((e) => `${e.path}: ${e.message}`);

  test('accepts method and header matches', () => {
    assert.deepEqual(
      gmsgs({
        rules: [
          {
            matches: [{ method: { service: 'helloworld.Greeter', method: 'SayHello' }, headers: [{ name: 'x-a', value: 'b' }] }, { method: { type: 'RegularExpression', service: 'foo\\..*' } }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x', value: 'y' }] } }],
            backendRefs: [{ name: 'greeter', port: 50051, weight: 1 }],
          },
        ],
      }),
      [],
    );
  });

  test('method matches', () => {
    assert.deepEqual(gmsgs({ rules: [{ matches: [{ method: {} }] }] }), ['spec.rules[0].matches[0].method: must set service, method or both']);
    assert.deepEqual(gmsgs({ rules: [{ matches: [{ method: { service: 'hello world' } }] }] }), [
      'spec.rules[0].matches[0].method.service: must be a gRPC service name like "helloworld.Greeter" (got "hello world")',
    ]);
    assert.deepEqual(gmsgs({ rules: [{ matches: [{ method: { method: 'Say/Hello' } }] }] }).length, 1);
    assert.deepEqual(gmsgs({ rules: [{ matches: [{ method: { type: 'RegularExpression', method: '(' } }] }] }).length, 1);
  });

  test('HTTP-only filters and fields are refused', () => {
    assert.deepEqual(gmsgs({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: {} }] }] }), ['spec.rules[0].filters[0].type: URLRewrite is not supported on a GRPCRoute']);
    assert.deepEqual(gmsgs({ rules: [{ timeouts: { request: '1s' } }] }), [
      'spec.rules[0].timeouts: GRPCRoute has no timeouts; set timeout in a TrafficPolicy for the Service',
    ]);
  });
});

describe('route regular expressions are RE2', () => {
  test('a pattern JavaScript accepts but RE2 refuses is rejected, saying why', () => {
    const path = (value: string) => msgs(rule({ matches: [{ path: { type: 'RegularExpression', value } }] }));
    assert.deepEqual(path('/api/v[0-9]+/.*'), []);
    assert.match(path('/(a)\\1')[0]!, /path\.value: is not a valid RE2 regular expression \(invalid escape sequence: \\1\); RE2 has no backreferences or lookaround, which JavaScript has$/);
    assert.match(path('/a(?=b)')[0]!, /invalid perl operator: \(\?=/);
    assert.match(msgs(rule({ matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: '(?<!a)b' }] }] }))[0]!, /headers\[0\]\.value: is not a valid RE2/);
  });

  test('checking many patterns does not exhaust the RE2 heap (each is freed)', () => {
    for (let i = 0; i < 30_000; i++) assert.equal(validateHTTPRoute(http(rule({ matches: [{ path: { type: 'RegularExpression', value: `/(foo|bar)+${i}` } }] }))).length, 0);
  });
});
