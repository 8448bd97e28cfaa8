import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorize, storeRbacSource } from './rbac.js';
import { resourceAttributes } from './request-info.js';
import { parseResourcePath, pathSegments } from './routes.js';
import { startApiServer, type ApiServer } from './server.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/**
 * events.k8s.io/v1 Events as kube-apiserver serves them: the same objects as
 * core v1 Events, in the other shape, written with that API's checks.
 */

const v1Event = (name: string, over: Record<string, unknown> = {}) => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name, namespace: 'shop' },
  eventTime: '2026-01-01T00:00:00.123000Z',
  reportingController: 'ambit.dev/controller',
  reportingInstance: 'ambit-controller-0',
  action: 'Accepted',
  reason: 'Invalid',
  type: 'Warning',
  note: 'Rejected: spec.action must be ALLOW or DENY.',
  regarding: { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-all', uid: 'u-1', resourceVersion: '7' },
  ...over,
});

describe('events.k8s.io/v1 Events over core v1 Event storage', () => {
  let store: ObjectStore;
  let server: ApiServer;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(server.url + path, { method, headers: { 'Content-Type': contentType, Accept: 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { code: res.status, body: (await res.json()) as any };
  };
  const V1 = '/apis/events.k8s.io/v1/namespaces/shop/events';
  const CORE = '/api/v1/namespaces/shop/events';

  before(async () => {
    store = new ObjectStore();
    store.create('namespaces', { metadata: { name: 'shop' } });
    server = await startApiServer({ store });
  });
  after(() => server.close());

  it('discovery lists the group, and kubectl-style names still resolve to core events first', async () => {
    const groups = await call('GET', '/apis');
    assert.ok(groups.body.groups.some((g: { name: string }) => g.name === 'events.k8s.io'));
    const list = await call('GET', '/apis/events.k8s.io/v1');
    assert.deepEqual(list.body.resources.map((r: { name: string; kind: string }) => `${r.name}:${r.kind}`), ['events:Event']);
    assert.equal(store.resource('events').group, '');
    assert.equal(store.resource('events.events.k8s.io').group, 'events.k8s.io');
  });

  it('an Event created through events.k8s.io/v1 is the core Event the other API lists, renamed field by field', async () => {
    const created = await call('POST', V1, v1Event('deny-all.1'));
    assert.equal(created.code, 201, JSON.stringify(created.body));
    assert.equal(created.body.apiVersion, 'events.k8s.io/v1');
    assert.equal(created.body.note, 'Rejected: spec.action must be ALLOW or DENY.');
    const core = await call('GET', `${CORE}/deny-all.1`);
    assert.equal(core.code, 200);
    assert.equal(core.body.apiVersion, 'v1');
    assert.equal(core.body.message, 'Rejected: spec.action must be ALLOW or DENY.');
    assert.equal(core.body.reportingComponent, 'ambit.dev/controller');
    assert.deepEqual(core.body.involvedObject, v1Event('x').regarding);
    assert.equal(core.body.note, undefined);
    assert.equal(core.body.metadata.uid, created.body.metadata.uid, 'one object');
    // kubectl describe lists core Events by field selector on the involved object.
    const byObject = await call('GET', `${CORE}?fieldSelector=${encodeURIComponent('involvedObject.name=deny-all,involvedObject.kind=AuthorizationPolicy,involvedObject.uid=u-1')}`);
    assert.deepEqual(byObject.body.items.map((e: KubeObject) => e.metadata.name), ['deny-all.1']);
    const byRegarding = await call('GET', `${V1}?fieldSelector=${encodeURIComponent('regarding.name=deny-all')}`);
    assert.deepEqual(byRegarding.body.items.map((e: KubeObject) => [e.apiVersion, e.metadata.name]), [['events.k8s.io/v1', 'deny-all.1']]);
  });

  it('a merge patch of the series through events.k8s.io/v1 shows in both shapes and reaches watchers of both', async () => {
    const seen: string[] = [];
    const stopCore = store.watch('events', { namespace: 'shop' }, (type, o) => seen.push(`core ${type} ${(o as { count?: number; series?: { count: number } }).series?.count ?? '-'}`));
    const stopV1 = store.watch('events.events.k8s.io', { namespace: 'shop', resourceVersion: store.resourceVersion }, (type, o) => seen.push(`v1 ${type} ${(o as { series?: { count: number } }).series?.count} ${o.apiVersion}`));
    const patched = await call('PATCH', `${V1}/deny-all.1`, { series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' } }, 'application/merge-patch+json');
    stopCore();
    stopV1();
    assert.equal(patched.code, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.series, { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' });
    assert.deepEqual((store.get('events', 'shop', 'deny-all.1') as { series?: unknown }).series, patched.body.series);
    assert.deepEqual(seen, ['core ADDED -', 'core MODIFIED 2', 'v1 MODIFIED 2 events.k8s.io/v1']);
  });

  it('refuses what kube-apiserver refuses: millisecond times, missing fields, long notes, changes beyond the series', async () => {
    const ms = await call('POST', V1, v1Event('bad-time', { eventTime: '2026-01-01T00:00:00.123Z' }));
    assert.equal(ms.code, 400);
    assert.match(ms.body.message, /2006-01-02T15:04:05.000000Z07:00/);
    const missing = await call('POST', V1, v1Event('bad-fields', { reportingInstance: undefined, action: '', type: 'Info' }));
    assert.equal(missing.code, 422);
    assert.match(missing.body.message, /reportingInstance: Required value.*action: Required value.*type: Invalid value/);
    const long = await call('POST', V1, v1Event('bad-note', { note: 'x'.repeat(1025) }));
    assert.equal(long.code, 422);
    assert.match(long.body.message, /note: Invalid value: "": can have at most 1024 characters/);
    const series = await call('POST', V1, v1Event('bad-series', { series: { count: 1, lastObservedTime: '2026-01-01T00:00:00.000000Z' } }));
    assert.equal(series.code, 422);
    const changed = await call('PATCH', `${V1}/deny-all.1`, { note: 'something else' }, 'application/merge-patch+json');
    assert.equal(changed.code, 422);
    assert.match(changed.body.message, /note: Invalid value: field is immutable/);
    // The core API keeps its legacy leniency.
    const legacy = await call('POST', CORE, { metadata: { name: 'old-style', namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'shop' }, reason: 'Started', message: 'm', count: 1 });
    assert.equal(legacy.code, 201);
    const asV1 = await call('GET', `${V1}/old-style`);
    assert.equal(asV1.body.eventTime, null);
    assert.equal(asV1.body.deprecatedCount, 1);
  });

  it('kubectl get events prints one table for both shapes, with the series count and source', async () => {
    const table = await fetch(`${server.url}${CORE}`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } }).then((r) => r.json() as Promise<any>);
    const columns = table.columnDefinitions.map((c: { name: string }) => c.name);
    assert.deepEqual(columns, ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
    const row = table.rows.find((r: { cells: unknown[] }) => r.cells[9] === 'deny-all.1');
    assert.deepEqual(row.cells.slice(1, 7), ['Warning', 'Invalid', 'authorizationpolicy/deny-all', '', 'ambit.dev/controller, ambit-controller-0', 'Rejected: spec.action must be ALLOW or DENY.']);
    assert.equal(row.cells[8], 2);
  });

  it('RBAC and the audit see the events.k8s.io group: a rule for core events does not allow it', () => {
    const route = parseResourcePath(pathSegments(V1)!)!;
    const attrs = resourceAttributes('POST', route, new URLSearchParams());
    assert.deepEqual(attrs, { verb: 'create', apiGroup: 'events.k8s.io', resource: 'events', namespace: 'shop' });
    store.create('clusterroles', { metadata: { name: 'core-events' }, rules: [{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }] });
    store.create('clusterrolebindings', { metadata: { name: 'core-events' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'core-events' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'shop' }] });
    const source = storeRbacSource((plural, namespace) => store.list(plural, namespace === undefined ? {} : { namespace }).items);
    const user = { username: 'system:serviceaccount:shop:ctl', groups: ['system:serviceaccounts'] };
    assert.equal(authorize(source, user, attrs).allowed, false);
    assert.equal(authorize(source, user, { ...attrs, apiGroup: '' }).allowed, true);
  });
});
