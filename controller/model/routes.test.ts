import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger } from '../../lib/log.js';
import type { Route, RouteRule } from '../../lib/xds/index.js';
import { MeshModel } from './model.js';
import type { RawObject } from './policies.js';
import { desiredRouteParents, routeStatusBody, sameRouteParents, ROUTE_CONTROLLER_NAME } from './route-status.js';
import { grpcMethodPath } from './routes.js';
import { waypointView } from './scope.js';

/**
 * Routes in the model, fed straight through `apply` (the informer path is in
 * routes.integration.test.ts): what each HTTPRoute and GRPCRoute field
 * compiles to, which parents and backends resolve, who is sent the result,
 * and the status per parent.
 */

const meta = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({ name, namespace, generation: 1, ...extra });

function service(namespace: string, name: string, ports: { name?: string; port: number }[], labels: Record<string, string> = {}): RawObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { ...meta(namespace, name), labels }, spec: { clusterIP: '10.96.0.1', ports: ports.map((p) => ({ protocol: 'TCP', ...p })) } };
}

const parent = (name: string, extra: Record<string, unknown> = {}) => ({ group: '', kind: 'Service', name, ...extra });

function httpRoute(namespace: string, name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): RawObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta(namespace, name, extra), spec };
}

function grpcRoute(namespace: string, name: string, spec: Record<string, unknown>): RawObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: meta(namespace, name), spec };
}

/** shop (waypoint wp, label on the namespace), with Services web (80, 9000), v1, v2, shadow; `plain` opted out; `client` a consumer namespace. */
function model(): MeshModel {
  const m = new MeshModel({ trustDomain: 'cluster.local', rootNamespace: 'ambit-system', log: logger('test', 'model') });
  m.apply('Namespace', 'add', { metadata: { name: 'shop', labels: { 'ambit.dev/dataplane-mode': 'ambient', 'ambit.dev/use-waypoint': 'wp' } } });
  m.apply('Namespace', 'add', { metadata: { name: 'client', labels: { 'ambit.dev/dataplane-mode': 'ambient' } } });
  m.apply('Waypoint', 'add', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: meta('shop', 'wp'), spec: {} });
  m.apply('Service', 'add', service('shop', 'wp', [{ name: 'hbone', port: 15008 }]));
  m.apply('Service', 'add', service('shop', 'web', [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }]));
  for (const s of ['v1', 'v2', 'shadow']) m.apply('Service', 'add', service('shop', s, [{ name: 'http', port: 8080 }]));
  m.apply('Service', 'add', service('shop', 'plain', [{ port: 80 }], { 'ambit.dev/use-waypoint': 'none' }));
  m.apply('Service', 'add', service('client', 'local', [{ port: 80 }]));
  return m;
}

const pushed = (m: MeshModel, name: string): Route | undefined => m.resources('Route').get(name);
const onlyRule = (m: MeshModel, name: string): RouteRule => pushed(m, name)!.rules[0]!;

describe('HTTPRoute compilation', () => {
  it('compiles every field: matches, filters, weighted backends with their filters, timeouts, creation time', () => {
    const m = model();
    m.apply(
      'HTTPRoute',
      'add',
      httpRoute(
        'shop',
        'web',
        {
          parentRefs: [parent('web', { port: 80 })],
          hostnames: ['web.shop.svc.cluster.local'],
          rules: [
            {
              name: 'canary',
              matches: [
                { path: { type: 'Exact', value: '/login' }, headers: [{ name: 'x-canary', value: 'yes' }, { type: 'RegularExpression', name: 'x-user', value: 'a.*' }], queryParams: [{ name: 'debug', value: '1' }], method: 'POST' },
                { path: { type: 'RegularExpression', value: '/api/v[0-9]+' } },
                {},
              ],
              filters: [
                { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
                { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 }, percent: 10 } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 }, fraction: { numerator: 1, denominator: 3 } } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 }, fraction: { numerator: 7 } } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 } } },
              ],
              backendRefs: [
                { name: 'v1', port: 8080, weight: 90 },
                { group: '', kind: 'Service', name: 'v2', port: 8080, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-v', value: '2' }] } }] },
              ],
              timeouts: { request: '1m30s', backendRequest: '1m500ms' },
            },
          ],
        },
        { creationTimestamp: '2026-01-02T03:04:05Z' },
      ),
    );
    const r = pushed(m, 'HTTPRoute/shop/web')!;
    assert.deepEqual([r.namespace, r.name, r.kind, r.hostnames, r.createdMs], ['shop', 'web', 'HTTP', ['web.shop.svc.cluster.local'], String(Date.parse('2026-01-02T03:04:05Z'))]);
    assert.deepEqual(r.parents, [{ namespace: 'shop', name: 'web', port: 80, consumer: false }]);
    const shadow = { namespace: 'shop', name: 'shadow', port: 8080 };
    const rule: RouteRule = {
      name: 'canary',
      matches: [
        {
          path: { type: 'EXACT', value: '/login', name: '' },
          headers: [{ type: 'EXACT', value: 'yes', name: 'x-canary' }, { type: 'REGULAR_EXPRESSION', value: 'a.*', name: 'x-user' }],
          queryParams: [{ type: 'EXACT', value: '1', name: 'debug' }],
          method: 'POST',
        },
        { path: { type: 'REGULAR_EXPRESSION', value: '/api/v[0-9]+', name: '' }, headers: [], queryParams: [], method: '' },
        // An empty match is Gateway API's default: PathPrefix "/".
        { path: { type: 'PATH_PREFIX', value: '/', name: '' }, headers: [], queryParams: [], method: '' },
      ],
      filters: [
        { filter: 'requestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
        { filter: 'responseHeaderModifier', responseHeaderModifier: { set: [], add: [], remove: ['server'] } },
        { filter: 'requestMirror', requestMirror: { backend: shadow, numerator: 10, denominator: 100 } },
        { filter: 'requestMirror', requestMirror: { backend: shadow, numerator: 1, denominator: 3 } },
        { filter: 'requestMirror', requestMirror: { backend: shadow, numerator: 7, denominator: 100 } },
        { filter: 'requestMirror', requestMirror: { backend: shadow, numerator: 100, denominator: 100 } },
      ],
      backends: [
        { ref: { namespace: 'shop', name: 'v1', port: 8080 }, weight: 90, filters: [] },
        { ref: { namespace: 'shop', name: 'v2', port: 8080 }, weight: 1, filters: [{ filter: 'requestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-v', value: '2' }], add: [], remove: [] } }] },
      ],
      requestTimeoutMs: 90_000,
      backendRequestTimeoutMs: 60_500,
    };
    assert.deepEqual(r.rules, [rule]);
  });

  it('compiles redirects and URL rewrites; a rule without matches matches every request', () => {
    const m = model();
    m.apply(
      'HTTPRoute',
      'add',
      httpRoute('shop', 'moves', {
        parentRefs: [parent('web')],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'new.example', port: 8443, statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] },
          { matches: [{ path: { type: 'Exact', value: '/x' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/y' } } }] },
          { filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'v1.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [{ name: 'v1', port: 8080 }] },
        ],
      }),
    );
    const [a, b, c] = pushed(m, 'HTTPRoute/shop/moves')!.rules;
    assert.deepEqual(a!.filters, [{ filter: 'requestRedirect', requestRedirect: { scheme: 'https', hostname: 'new.example', path: { type: 'REPLACE_PREFIX_MATCH', value: '/new' }, port: 8443, statusCode: 301 } }]);
    assert.deepEqual(a!.backends, []);
    assert.deepEqual(b!.filters, [{ filter: 'requestRedirect', requestRedirect: { scheme: '', hostname: '', path: { type: 'REPLACE_FULL_PATH', value: '/y' }, port: 0, statusCode: 302 } }], 'Gateway API default: 302');
    assert.deepEqual(c!.matches, []);
    assert.deepEqual(c!.filters, [{ filter: 'urlRewrite', urlRewrite: { hostname: 'v1.internal', path: { type: 'REPLACE_PREFIX_MATCH', value: '/' } } }]);
    assert.equal(pushed(m, 'HTTPRoute/shop/moves')!.createdMs, '0', 'no creationTimestamp');
  });

  it('an HTTPRoute and a GRPCRoute of one name are two resources', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'same', { parentRefs: [parent('web')] }));
    m.apply('GRPCRoute', 'add', grpcRoute('shop', 'same', { parentRefs: [parent('web')] }));
    assert.deepEqual([...m.resources('Route').keys()].sort(), ['GRPCRoute/shop/same', 'HTTPRoute/shop/same']);
    m.apply('HTTPRoute', 'delete', httpRoute('shop', 'same', { parentRefs: [parent('web')] }));
    assert.deepEqual([...m.resources('Route').keys()], ['GRPCRoute/shop/same']);
  });
});

describe('GRPCRoute method matches compile to path matches on /<service>/<method>', () => {
  it('each shape of GRPCMethodMatch', () => {
    assert.deepEqual(grpcMethodPath({ service: 'helloworld.Greeter', method: 'SayHello' }), { type: 'EXACT', value: '/helloworld.Greeter/SayHello', name: '' });
    assert.deepEqual(grpcMethodPath({ type: 'Exact', service: 'helloworld.Greeter' }), { type: 'PATH_PREFIX', value: '/helloworld.Greeter', name: '' }, 'segment-wise: not /helloworld.GreeterX/...');
    assert.deepEqual(grpcMethodPath({ method: 'SayHello' }), { type: 'REGULAR_EXPRESSION', value: '/[^/]+/SayHello', name: '' });
    assert.deepEqual(grpcMethodPath({ type: 'RegularExpression', service: 'a\\.(B|C)', method: 'Get.*' }), { type: 'REGULAR_EXPRESSION', value: '/(a\\.(B|C))/(Get.*)', name: '' });
    assert.deepEqual(grpcMethodPath({ type: 'RegularExpression', method: 'Get|List' }), { type: 'REGULAR_EXPRESSION', value: '/([^/]+)/(Get|List)', name: '' }, 'the alternation stays inside its part');
    assert.deepEqual(grpcMethodPath({ type: 'RegularExpression', service: 'pkg\\..*' }), { type: 'REGULAR_EXPRESSION', value: '/(pkg\\..*)/([^/]+)', name: '' });
  });

  it('a whole GRPCRoute: method and header matches, filters, weighted backends; no method matches every call', () => {
    const m = model();
    m.apply(
      'GRPCRoute',
      'add',
      grpcRoute('shop', 'greeter', {
        parentRefs: [parent('web', { port: 9000 })],
        rules: [
          {
            matches: [{ method: { service: 'helloworld.Greeter', method: 'SayHello' }, headers: [{ name: 'x-env', value: 'canary' }] }, { headers: [{ type: 'RegularExpression', name: 'x-user', value: 'b.+' }] }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-grpc', value: '1' }] } }, { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 } } }],
            backendRefs: [{ name: 'v1', port: 8080, weight: 3 }, { name: 'v2', port: 8080 }],
          },
        ],
      }),
    );
    const r = pushed(m, 'GRPCRoute/shop/greeter')!;
    assert.equal(r.kind, 'GRPC');
    assert.deepEqual(r.parents, [{ namespace: 'shop', name: 'web', port: 9000, consumer: false }]);
    const rule = r.rules[0]!;
    assert.deepEqual(rule.matches, [
      { path: { type: 'EXACT', value: '/helloworld.Greeter/SayHello', name: '' }, headers: [{ type: 'EXACT', value: 'canary', name: 'x-env' }], queryParams: [], method: '' },
      { path: null, headers: [{ type: 'REGULAR_EXPRESSION', value: 'b.+', name: 'x-user' }], queryParams: [], method: '' },
    ]);
    assert.deepEqual(rule.filters.map((f) => f.filter), ['requestHeaderModifier', 'requestMirror']);
    assert.deepEqual(rule.backends.map((b) => [b.ref?.name, b.weight]), [['v1', 3], ['v2', 1]]);
    assert.deepEqual([rule.requestTimeoutMs, rule.backendRequestTimeoutMs], [0, 0]);
  });
});

describe('which parents accept a route, and which backends resolve', () => {
  it('a parent in another namespace makes a consumer route; its backend may be that parent Service', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('client', 'to-web', { parentRefs: [parent('web', { namespace: 'shop' })], rules: [{ backendRefs: [{ name: 'web', namespace: 'shop', port: 80 }, { name: 'local', port: 80 }] }] }));
    const r = pushed(m, 'HTTPRoute/client/to-web')!;
    assert.deepEqual(r.parents, [{ namespace: 'shop', name: 'web', port: 0, consumer: true }]);
    assert.deepEqual(r.rules[0]!.backends.map((b) => b.ref), [{ namespace: 'shop', name: 'web', port: 80 }, { namespace: 'client', name: 'local', port: 80 }]);
  });

  it('unresolved backends keep their weight with no ref (their share gets 500); an unresolved mirror is dropped', () => {
    const m = model();
    m.apply('Namespace', 'add', { metadata: { name: 'elsewhere' } });
    m.apply('Service', 'add', service('elsewhere', 'far', [{ port: 80 }]));
    m.apply(
      'HTTPRoute',
      'add',
      httpRoute('shop', 'broken', {
        parentRefs: [parent('web')],
        rules: [
          {
            filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'gone', port: 80 } } }, { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 } } }],
            backendRefs: [
              { name: 'v1', port: 8080, weight: 5 },
              { name: 'far', namespace: 'elsewhere', port: 80, weight: 2 },
              { name: 'missing', port: 80, weight: 3 },
              { name: 'v2', port: 9999 },
              { group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'v1', weight: 4 },
            ],
          },
        ],
      }),
    );
    const rule = onlyRule(m, 'HTTPRoute/shop/broken');
    assert.deepEqual(rule.backends.map((b) => [b.ref, b.weight]), [[{ namespace: 'shop', name: 'v1', port: 8080 }, 5], [null, 2], [null, 3], [null, 1], [null, 4]]);
    assert.deepEqual(rule.filters.map((f) => f.requestMirror?.backend?.name), ['shadow']);
    const res = m.resolveRoute(m.httpRoutes.enforcedOf('shop/broken')!);
    assert.deepEqual(res.unresolved.map((u) => u.reason), ['BackendNotFound', 'RefNotPermitted', 'BackendNotFound', 'BackendNotFound', 'InvalidKind']);
    assert.match(res.unresolved[1]!.message, /backendRef Service elsewhere\/far:80: a backend must be in the route's namespace or a parent Service's \(shop\); Ambit does not read ReferenceGrants/);
    assert.match(res.unresolved[3]!.message, /backendRef Service shop\/v2:9999: the Service has no port 9999/);
    assert.match(res.unresolved[4]!.message, /backendRef ServiceImport\.multicluster\.x-k8s\.io shop\/v1: only Services/);

    // The Service appearing resolves the backend without touching the route.
    m.apply('Service', 'add', service('shop', 'missing', [{ port: 80 }]));
    assert.deepEqual(onlyRule(m, 'HTTPRoute/shop/broken').backends[2]!.ref, { namespace: 'shop', name: 'missing', port: 80 });
  });

  it('parents: a missing Service, a port it does not have and a Service no waypoint serves are not accepted; with none accepted nothing is pushed', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'mixed', { parentRefs: [parent('web', { port: 9000 }), parent('web', { port: 81 }), parent('nope'), parent('plain'), parent('web', { sectionName: 'http' })] }));
    assert.deepEqual(pushed(m, 'HTTPRoute/shop/mixed')!.parents, [
      { namespace: 'shop', name: 'web', port: 9000, consumer: false },
      { namespace: 'shop', name: 'web', port: 80, consumer: false },
    ]);
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'unserved', { parentRefs: [parent('plain')] }));
    assert.equal(pushed(m, 'HTTPRoute/shop/unserved'), undefined);

    // The waypoint going away takes the route off the push; its coming back restores it.
    m.apply('Waypoint', 'delete', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: meta('shop', 'wp') });
    assert.equal(pushed(m, 'HTTPRoute/shop/mixed'), undefined);
    m.apply('Waypoint', 'add', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: meta('shop', 'wp'), spec: {} });
    assert.ok(pushed(m, 'HTTPRoute/shop/mixed'));
  });

  it('an invalid update keeps the last good version in force; a route invalid from the start is never pushed', () => {
    const m = model();
    const good = httpRoute('shop', 'r', { parentRefs: [parent('web')], rules: [{ backendRefs: [{ name: 'v1', port: 8080 }] }] });
    m.apply('HTTPRoute', 'add', good);
    const bad = httpRoute('shop', 'r', { parentRefs: [parent('web')], rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/(a)\\1' } }], backendRefs: [{ name: 'v2', port: 8080 }] }] }, { generation: 2 });
    m.apply('HTTPRoute', 'update', bad);
    assert.equal(onlyRule(m, 'HTTPRoute/shop/r').backends[0]!.ref?.name, 'v1', 'generation 1 stays in force');
    assert.equal(m.counts().rejectedHTTPRoutes, 1);
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'never', { parentRefs: [parent('web')], rules: [{ backendRefs: [{ name: 'v1' }] }] }));
    assert.equal(pushed(m, 'HTTPRoute/shop/never'), undefined);
  });
});

describe('who is sent a route', () => {
  it("the proxies of the waypoints serving a parent, and no node agent", () => {
    const m = model();
    m.apply('Namespace', 'add', { metadata: { name: 'shop2', labels: { 'ambit.dev/use-waypoint': 'wp2' } } });
    m.apply('Waypoint', 'add', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: meta('shop2', 'wp2'), spec: {} });
    m.apply('Service', 'add', service('shop2', 'api', [{ port: 80 }]));
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'both', { parentRefs: [parent('web'), parent('api', { namespace: 'shop2' })] }));
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'one', { parentRefs: [parent('web'), parent('plain')] }));
    const scope = (name: string) => [...(m.scopeOf('Route', pushed(m, name)!) as ReadonlySet<string>)].sort();
    assert.deepEqual(scope('HTTPRoute/shop/both'), [waypointView({ namespace: 'shop', name: 'wp' }), waypointView({ namespace: 'shop2', name: 'wp2' })]);
    assert.deepEqual(scope('HTTPRoute/shop/one'), ['waypoint/shop/wp']);
  });
});

describe('route status per parent', () => {
  const entry = (m: MeshModel, key: string) => m.httpRoutes.entriesList().find(([k]) => k === key)![1];
  const summary = (m: MeshModel, key: string) => desiredRouteParents(m, entry(m, key)).map((p) => [p.parentRef, ...p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)]);

  it('Accepted per parent: accepted, no matching parent, no waypoint; ResolvedRefs for the route', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 's', { parentRefs: [parent('web', { port: 80 }), parent('web', { port: 81 }), parent('nope'), parent('plain')], rules: [{ backendRefs: [{ name: 'v1', port: 8080 }] }] }));
    assert.deepEqual(summary(m, 'shop/s'), [
      [{ group: '', kind: 'Service', name: 'web', port: 80 }, 'Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
      [{ group: '', kind: 'Service', name: 'web', port: 81 }, 'Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs'],
      [{ group: '', kind: 'Service', name: 'nope' }, 'Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs'],
      [{ group: '', kind: 'Service', name: 'plain' }, 'Accepted=False/NoWaypoint', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
    const messages = desiredRouteParents(m, entry(m, 'shop/s')).map((p) => p.conditions[0]!.message);
    assert.equal(messages[0], 'Applied by waypoint shop/wp to requests to Service shop/web port 80. Waypoint shop/wp has no ready proxy yet: requests to the Service fail until it has one.');
    assert.equal(messages[1], 'Service shop/web has no port 81 (it has 80, 9000).');
    assert.equal(messages[2], 'Service shop/nope not found; the route attaches to it once it exists.');
    assert.equal(messages[3], 'Service shop/plain has no waypoint. Routes are applied by waypoints, so this route is not in force for it: label the Service or its namespace ambit.dev/use-waypoint=<waypoint>.');
    for (const c of desiredRouteParents(m, entry(m, 'shop/s')).flatMap((p) => p.conditions)) assert.equal(c.observedGeneration, 1);
  });

  it('ResolvedRefs=False names each unresolved reference, with the first one’s reason', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'refs', { parentRefs: [parent('web')], rules: [{ backendRefs: [{ kind: 'ConfigMap', name: 'x' }, { name: 'gone', port: 80 }] }] }));
    const c = desiredRouteParents(m, entry(m, 'shop/refs'))[0]!.conditions[1]!;
    assert.deepEqual([c.status, c.reason], ['False', 'InvalidKind']);
    assert.equal(c.message, 'backendRef ConfigMap shop/x: only Services (group "") are backends; backendRef Service shop/gone:80: Service not found. Requests a rule would send to an unresolved backend get HTTP 500; an unresolved mirror is skipped.');
  });

  it('a parent Service whose waypoint label names no Waypoint: NoWaypoint, saying so', () => {
    const m = model();
    m.apply('Service', 'add', service('shop', 'ghost', [{ port: 80 }], { 'ambit.dev/use-waypoint': 'missing-wp' }));
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'g', { parentRefs: [parent('ghost')] }));
    const c = desiredRouteParents(m, entry(m, 'shop/g'))[0]!.conditions[0]!;
    assert.deepEqual([c.status, c.reason], ['False', 'NoWaypoint']);
    assert.match(c.message, /^Service shop\/ghost is labelled for waypoint shop\/missing-wp, which does not exist, so its traffic goes straight to its endpoints\./);
  });

  it('an invalid spec: Accepted=False UnsupportedValue with the field errors, saying which version stays', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'r', { parentRefs: [parent('web')], rules: [{ backendRefs: [{ name: 'v1', port: 8080 }] }] }));
    m.apply('HTTPRoute', 'update', httpRoute('shop', 'r', { parentRefs: [parent('web')], rules: [{ matches: [{ path: { type: 'RegularExpression', value: 'a(?=b)' } }] }] }, { generation: 2 }));
    const [accepted, refs] = desiredRouteParents(m, entry(m, 'shop/r'))[0]!.conditions;
    assert.deepEqual([accepted!.status, accepted!.reason, accepted!.observedGeneration], ['False', 'UnsupportedValue', 2]);
    assert.match(accepted!.message, /^Rejected: spec\.rules\[0\]\.matches\[0\]\.path\.value: is not a valid RE2 regular expression .*The last accepted version \(generation 1\) stays in force\.$/);
    assert.equal(refs!.status, 'True', 'of the version in force');
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'never', { parentRefs: [parent('web')], rules: [{ backendRefs: [{ name: 'v1' }] }] }));
    const never = desiredRouteParents(m, entry(m, 'shop/never'))[0]!.conditions;
    assert.match(never[0]!.message, /backendRefs\[0\]\.port: required\. Nothing of it is applied\.$/);
    assert.deepEqual([never[1]!.status, never[1]!.reason], ['Unknown', 'Pending']);
  });

  it('the body keeps other controllers’ entries and the transition time of conditions that did not flip', () => {
    const m = model();
    m.apply('HTTPRoute', 'add', httpRoute('shop', 'r', { parentRefs: [parent('web')] }));
    const desired = desiredRouteParents(m, entry(m, 'shop/r'));
    const other = { parentRef: { name: 'gw' }, controllerName: 'example.com/gateway', conditions: [] };
    const first = routeStatusBody(desired, { status: { parents: [other] } }, '2026-01-01T00:00:00Z');
    assert.deepEqual(first.parents.map((p) => p.controllerName), ['example.com/gateway', ROUTE_CONTROLLER_NAME]);
    assert.equal(sameRouteParents(desired, { status: first }), true);
    assert.equal(sameRouteParents(desired, { status: { parents: [other] } }), false);
    const again = routeStatusBody(desired, { status: first }, '2026-02-02T00:00:00Z');
    assert.deepEqual(again.parents[1]!.conditions.map((c) => c.lastTransitionTime), ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z']);
  });
});
