import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WaypointRef } from '../../lib/xds/index.js';
import { stateFromDump } from '../proxies/state.js';
import { parseDestination, parseQuestion } from './args.js';
import { explain } from './explain.js';
import type { ConfigSource, ExplainQuestion } from './types.js';

const id = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const wpRef = { namespace: 'app', name: 'wp' };
const pod = (name: string, node: string, ip: string, labels: Record<string, string>, sa = 'default', extra = {}) => ({ uid: `uid-${name}`, namespace: 'app', name, serviceAccount: sa, node, ip, meshed: true, labels, workloadName: name, identity: id('app', sa), ...extra });
const endpoint = (name: string, ip: string, node: string, servicePort: number, targetPort: number) => ({ workloadUid: `uid-${name}`, address: ip, node, ready: true, ports: [{ servicePort, targetPort }] });

/**
 * What the proxies would hold: every proxy gets the same Services and workloads here; the
 * policies are where the controller scopes them (a waypoint's to its proxies, a selector's
 * to the nodes of the pods it selects).
 */
const model = {
  generation: 1,
  complete: true,
  nodes: [{ name: 'node1', ip: '10.0.0.1' }, { name: 'node2', ip: '10.0.0.2' }],
  workloads: [
    pod('client', 'node1', '10.1.1.5', { app: 'client' }, 'client'),
    pod('web-1', 'node2', '10.1.2.5', { app: 'web' }),
    pod('db-1', 'node2', '10.1.2.6', { app: 'db' }),
    pod('wp-1', 'node1', '10.1.1.9', { 'ambit.dev/waypoint': 'wp' }, 'wp'),
  ],
  services: [
    { namespace: 'app', name: 'web', hostname: 'web.app.svc.cluster.local', clusterIp: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], endpoints: [endpoint('web-1', '10.1.2.5', 'node2', 80, 8080)], waypoint: wpRef },
    { namespace: 'app', name: 'db', hostname: 'db.app.svc.cluster.local', clusterIp: '10.96.0.11', ports: [{ name: 'tcp', port: 5432, targetPort: 5432, protocol: 'TCP' }], endpoints: [endpoint('db-1', '10.1.2.6', 'node2', 5432, 5432)] },
    { namespace: 'app', name: 'wp', hostname: 'wp.app.svc.cluster.local', clusterIp: '10.96.0.20', ports: [{ name: 'hbone', port: 15008, targetPort: 15008, protocol: 'TCP' }], endpoints: [endpoint('wp-1', '10.1.1.9', 'node1', 15008, 15008)] },
  ],
  authorizationPolicies: [] as unknown[],
  peerAuthentications: [{ namespace: 'app', name: 'strict', scope: 'NAMESPACE', mode: 'STRICT' }],
  routes: [] as unknown[],
};

const denyPost = { namespace: 'app', name: 'deny-post', scope: 'TARGET_REFS', targetRefs: [{ group: 'ambit.dev', kind: 'Waypoint', name: 'wp' }], action: 'DENY', rules: [{ to: [{ methods: ['POST'] }], hasL7: true }] };
const onlyClientToDb = { namespace: 'app', name: 'db-from-web', scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'db' } }, action: 'ALLOW', rules: [{ from: [{ principals: [id('app', 'web')] }] }] };
const audit = { namespace: 'app', name: 'audit-all', scope: 'NAMESPACE', action: 'AUDIT', rules: [{}] };
const route = {
  namespace: 'app',
  name: 'web-route',
  kind: 'HTTPRoute',
  parents: [{ namespace: 'app', name: 'web', port: 0 }],
  rules: [{ name: 'api', matches: [{ path: { type: 'PATH_PREFIX', value: '/api' } }], backends: [{ ref: { namespace: 'app', name: 'web', port: 80 }, weight: 1 }] }],
};

function source(): ConfigSource {
  const agent = stateFromDump({ ...model, authorizationPolicies: [onlyClientToDb, audit] } as never, 'agent');
  const waypoint = stateFromDump({ ...model, authorizationPolicies: [denyPost], routes: [route] } as never, 'wp-1');
  return {
    agent: async (node) => ({ proxy: `agent-${node}`, state: agent, complete: true }),
    waypoint: async (ref: WaypointRef) => {
      assert.deepEqual(ref, wpRef);
      return { proxy: 'wp-1', state: waypoint, complete: true };
    },
  };
}

const ask = (dst: string, flags: Parameters<typeof parseQuestion>[1] = {}): ExplainQuestion => parseQuestion(['app/client', dst], flags);

describe('policy explain: the proxies\' decisions on the config they hold', () => {
  it('a GET through the waypoint: admitted there, routed, admitted by the destination agent from the waypoint only', async () => {
    const e = await explain(ask('app/web', { method: 'GET', path: '/api/x' }), 'node1', source());
    assert.equal(e.verdict, 'ALLOW', e.reason);
    assert.deepEqual(e.waypoint, wpRef);
    assert.deepEqual(e.steps.map((s) => s.at), ['source', 'waypoint', 'destination']);
    const wp = e.steps[1]!;
    assert.deepEqual(wp.policies?.map((p) => [p.policy, p.matches]), [['app/deny-post', false]]);
    assert.ok(wp.route && wp.route.name === 'HTTPRoute app/web-route', JSON.stringify(wp.route));
    const dst = e.steps[2]!;
    assert.equal(dst.mtls?.mode, 'STRICT');
    assert.equal(dst.mtls?.from, 'app/strict');
    assert.deepEqual(dst.policies?.map((p) => [p.policy, p.action, p.matches]), [['app/audit-all', 'AUDIT', true]]);
  });

  it('a POST: the DENY at the waypoint decides, and the client gets 403', async () => {
    const e = await explain(ask('web.app.svc.cluster.local:80', { method: 'post' }), 'node1', source());
    assert.equal(e.verdict, 'DENY');
    const wp = e.steps[1]!;
    assert.equal(wp.allowed, false);
    assert.deepEqual(wp.policies?.map((p) => [p.policy, p.matches, p.decisive]), [['app/deny-post', true, true]]);
    assert.match(wp.answer ?? '', /^HTTP 403 RBAC: access denied \(denied by AuthorizationPolicy app\/deny-post\)/);
    assert.equal(e.steps.length, 2, 'nothing past the waypoint');
  });

  it('no route matches: FAIL with the 404 the waypoint answers', async () => {
    const e = await explain(ask('app/web', { path: '/other' }), 'node1', source());
    assert.equal(e.verdict, 'FAIL');
    assert.match(e.reason, /404/);
  });

  it('direct to a Service without waypoint: the destination agent\'s ALLOW policy does not admit the client', async () => {
    const e = await explain(ask('app/db'), 'node1', source());
    assert.equal(e.waypoint, null);
    assert.equal(e.destination.protocol, 'tcp');
    assert.equal(e.verdict, 'DENY');
    const dst = e.steps[1]!;
    assert.equal(dst.reason, 'no ALLOW AuthorizationPolicy matched');
    assert.deepEqual(dst.policies?.map((p) => [p.action, p.policy, p.matches]), [['ALLOW', 'app/db-from-web', false], ['AUDIT', 'app/audit-all', true]]);
  });

  it('a pod behind a waypoint cannot be reached around it', async () => {
    const e = await explain(ask('pod/app/web-1:8080'), 'node1', source());
    assert.equal(e.verdict, 'DENY');
    assert.match(e.reason, /only its proxies \(spiffe:\/\/cluster\.local\/ns\/app\/sa\/wp\) may connect/);
  });

  it('says what it cannot find', async () => {
    await assert.rejects(explain(ask('app/nothing'), 'node1', source()), /no Service or pod app\/nothing/);
    await assert.rejects(explain(ask('svc/app/db:80'), 'node1', source()), /has no port 80/);
  });
});

describe('policy explain arguments', () => {
  it('reads destinations as a client names them', () => {
    assert.deepEqual(parseDestination('app/web'), { destination: { kind: 'either', namespace: 'app', name: 'web' }, port: undefined });
    assert.deepEqual(parseDestination('svc/app/web:8080'), { destination: { kind: 'service', namespace: 'app', name: 'web' }, port: 8080 });
    assert.deepEqual(parseDestination('pod/app/web-1:80'), { destination: { kind: 'pod', namespace: 'app', name: 'web-1' }, port: 80 });
    assert.deepEqual(parseDestination('web.app.svc.cluster.local'), { destination: { kind: 'service', namespace: 'app', name: 'web' }, port: undefined });
    assert.deepEqual(parseDestination('10.96.0.1:443'), { destination: { kind: 'address', ip: '10.96.0.1' }, port: 443 });
    assert.throws(() => parseDestination('a/b/c'), /expected NAMESPACE\/NAME/);
    assert.throws(() => parseDestination('app/web:70000'), /out of range/);
  });

  it('an HTTP flag makes the call HTTP; bad flags are usage errors', () => {
    assert.equal(parseQuestion(['a/b', 'c/d'], {}).request, undefined);
    assert.deepEqual(parseQuestion(['a/b', 'c/d'], { header: ['X-User=alice'] }).request, { method: 'GET', path: '/', headers: { 'x-user': 'alice' } });
    assert.throws(() => parseQuestion(['a/b'], {}), /SRC DST/);
    assert.throws(() => parseQuestion(['a/b', 'c/d'], { path: 'x' }), /must start with \//);
    assert.throws(() => parseQuestion(['a/b', 'c/d'], { header: ['novalue'] }), /NAME=VALUE/);
  });
});
