import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, RouteMatch, RouteRule, Service } from '../../lib/xds/index.js';
import { modifyHeaders, modifyPath, redirectLocation, type HeaderMap } from './filters.js';
import { pathMatcher, Patterns } from './match.js';
import { NO_MATCH, RouteTable, type RouteRequest } from './table.js';

const svc = (name: string, namespace = 'shop'): Service => ({
  namespace,
  name,
  hostname: `${name}.${namespace}.svc.cluster.local`,
  clusterIp: '10.96.0.10',
  ports: [],
  endpoints: [],
  waypoint: null,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
});

const match = (over: Partial<RouteMatch> = {}): RouteMatch => ({ path: null, headers: [], queryParams: [], method: '', ...over });
const rule = (name: string, matches: RouteMatch[] = []): RouteRule => ({ name, matches, filters: [], backends: [], requestTimeoutMs: 0, backendRequestTimeoutMs: 0 });
const route = (name: string, rules: RouteRule[], over: Partial<Route> = {}): Route => ({
  namespace: 'shop',
  name,
  kind: 'HTTP',
  parents: [{ namespace: 'shop', name: 'web', port: 0, consumer: false }],
  hostnames: [],
  rules,
  createdMs: '0',
  ...over,
});
const request = (path: string, over: Partial<RouteRequest> = {}): RouteRequest => {
  const q = path.indexOf('?');
  return { method: 'GET', path: q < 0 ? path : path.slice(0, q), query: q < 0 ? '' : path.slice(q + 1), headers: {}, sourceNamespace: 'shop', ...over };
};

function table(routes: Route[]): RouteTable {
  return new RouteTable({ generation: 1, routes: () => routes });
}

const chosen = (t: RouteTable, r: RouteRequest, service = svc('web'), port = 80) => {
  const c = t.select(service, port, r);
  return c === undefined || c === NO_MATCH ? c : c.name;
};

describe('route matching', () => {
  it('PathPrefix matches whole segments, with or without a trailing slash', () => {
    const m = pathMatcher({ type: 'PATH_PREFIX', value: '/foo/', name: '' }, new Patterns());
    assert.deepEqual(['/foo', '/foo/', '/foo/bar', '/foobar', '/fo'].map(m), [true, true, true, false, false]);
  });

  it('regular expressions are RE2, anchored to the whole value, and refuse backreferences', () => {
    const patterns = new Patterns();
    const regexMatcher = (p: string) => patterns.regex(p);
    const m = regexMatcher('/v[0-9]+/.*');
    assert.equal(m('/v2/items'), true);
    assert.equal(m('/x/v2/items'), false);
    assert.throws(() => regexMatcher('(a)\\1'));
    // Catastrophic for a backtracking engine, linear for RE2.
    const started = performance.now();
    assert.equal(regexMatcher('(a+)+b')('a'.repeat(5000)), false);
    assert.ok(performance.now() - started < 1000);
  });

  it('frees the patterns a new config no longer uses (re2-wasm never frees one by itself)', () => {
    const patterns = new Patterns();
    for (let i = 0; i < 30_000; i++) {
      patterns.regex(`/v${i}/.*`);
      patterns.sweep();
    }
    assert.equal(patterns.size, 1, "only the last config's pattern is held");
    patterns.regex('/kept');
    patterns.sweep();
    assert.equal(patterns.size, 1);
  });

  it('orders by Gateway API precedence: exact, longest prefix, method, headers, query, then age and name', () => {
    const t = table([
      route('b-old', [rule('prefix', [match({ path: { type: 'PATH_PREFIX', value: '/api', name: '' } })])], { createdMs: '100' }),
      route('a-new', [rule('prefix', [match({ path: { type: 'PATH_PREFIX', value: '/api', name: '' } })])], { createdMs: '200' }),
      route('r', [
        rule('exact', [match({ path: { type: 'EXACT', value: '/api/v1', name: '' } })]),
        rule('longer', [match({ path: { type: 'PATH_PREFIX', value: '/api/v1', name: '' } })]),
        rule('header', [match({ path: { type: 'PATH_PREFIX', value: '/api', name: '' }, headers: [{ type: 'EXACT', name: 'X-Canary', value: 'yes' }] })]),
        rule('post', [match({ path: { type: 'PATH_PREFIX', value: '/api', name: '' }, method: 'POST' })]),
        rule('query', [match({ path: { type: 'PATH_PREFIX', value: '/api', name: '' }, queryParams: [{ type: 'EXACT', name: 'v', value: '2' }] })]),
      ], { createdMs: '300' }),
    ]);
    assert.equal(chosen(t, request('/api/v1')), 'shop/r/exact');
    assert.equal(chosen(t, request('/api/v1/x')), 'shop/r/longer');
    assert.equal(chosen(t, request('/api/x', { method: 'POST', headers: { 'x-canary': 'yes' } })), 'shop/r/post');
    assert.equal(chosen(t, request('/api/x', { headers: { 'x-canary': 'yes' } })), 'shop/r/header');
    assert.equal(chosen(t, request('/api/x?v=2')), 'shop/r/query');
    assert.equal(chosen(t, request('/api/x')), 'shop/b-old/prefix');
    assert.equal(chosen(t, request('/other')), NO_MATCH);
    assert.equal(chosen(t, request('/other'), svc('db')), undefined);
  });

  it('a parent port limits the route to that port', () => {
    const t = table([route('p', [rule('all')], { parents: [{ namespace: 'shop', name: 'web', port: 8080, consumer: false }] })]);
    assert.equal(chosen(t, request('/'), svc('web'), 8080), 'shop/p/all');
    assert.equal(chosen(t, request('/'), svc('web'), 80), undefined);
  });

  it("a consumer route applies to its own namespace's clients only, before the Service's own routes", () => {
    const t = table([
      route('own', [rule('all')]),
      route('theirs', [rule('all')], { namespace: 'client', parents: [{ namespace: 'shop', name: 'web', port: 0, consumer: true }] }),
    ]);
    assert.equal(chosen(t, request('/', { sourceNamespace: 'client' })), 'client/theirs/all');
    assert.equal(chosen(t, request('/', { sourceNamespace: 'other' })), 'shop/own/all');
  });

  it('query parameters are decoded and the first value counts; header values are compared whole', () => {
    const t = table([route('q', [rule('q', [match({ queryParams: [{ type: 'EXACT', name: 'name', value: 'a b' }], headers: [{ type: 'REGULAR_EXPRESSION', name: 'x-v', value: 'v[12]' }] })])])]);
    assert.equal(chosen(t, request('/?name=a%20b&name=c', { headers: { 'x-v': 'v1' } })), 'shop/q/q');
    assert.equal(chosen(t, request('/?name=c&name=a%20b', { headers: { 'x-v': 'v1' } })), NO_MATCH);
    assert.equal(chosen(t, request('/?name=a+b', { headers: { 'x-v': 'v12' } })), NO_MATCH);
  });
});

describe('route filters', () => {
  it('header modifiers set, add and remove, case-insensitively', () => {
    const h: HeaderMap = { 'x-a': '1', 'x-b': '2', 'x-c': '3' };
    modifyHeaders(h, { set: [{ name: 'X-A', value: 'one' }], add: [{ name: 'x-b', value: 'two' }, { name: 'x-new', value: 'n' }], remove: ['X-C'] });
    assert.deepEqual(h, { 'x-a': 'one', 'x-b': ['2', 'two'], 'x-new': 'n' });
  });

  it('ReplacePrefixMatch swaps the matched prefix on segment boundaries', () => {
    const prefix = (value: string) => ({ type: 'REPLACE_PREFIX_MATCH' as const, value });
    assert.equal(modifyPath(prefix('/bar'), '/foo/x', '/foo'), '/bar/x');
    assert.equal(modifyPath(prefix('/bar'), '/foo', '/foo'), '/bar');
    assert.equal(modifyPath(prefix('/'), '/foo/x', '/foo'), '/x');
    assert.equal(modifyPath(prefix('/'), '/foo', '/foo'), '/');
    assert.equal(modifyPath(prefix('/bar/'), '/foo/x', '/foo'), '/bar/x');
    assert.equal(modifyPath(prefix('/v2'), '/x', '/'), '/v2/x');
    assert.equal(modifyPath({ type: 'REPLACE_FULL_PATH', value: '/all' }, '/foo/x', '/foo'), '/all');
  });

  it('redirects keep what the filter leaves unset, and leave the default port out', () => {
    const base = { scheme: 'http' as const, host: 'web', port: 80, path: '/a', query: '?q=1' };
    const r = (over: object) => ({ scheme: '', hostname: '', path: null, port: 0, statusCode: 0, ...over });
    assert.equal(redirectLocation(r({}), base, undefined), 'http://web/a?q=1');
    assert.equal(redirectLocation(r({}), { ...base, port: 8080 }, undefined), 'http://web:8080/a?q=1');
    assert.equal(redirectLocation(r({ scheme: 'https' }), { ...base, port: 8080 }, undefined), 'https://web/a?q=1');
    assert.equal(redirectLocation(r({ hostname: 'other', port: 8443 }), base, undefined), 'http://other:8443/a?q=1');
    assert.equal(redirectLocation(r({ path: { type: 'REPLACE_PREFIX_MATCH', value: '/b' } }), base, '/a'), 'http://web/b?q=1');
  });
});
