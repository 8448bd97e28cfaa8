import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError, type StatusReason } from './status.js';
import { ObjectStore } from './store.js';
import type { EventType, KubeObject, StoreEvent } from './types.js';

const pod = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'x' }] },
  ...extra,
});

function rejects(fn: () => unknown, reason: StatusReason, code: number): void {
  assert.throws(fn, (err: unknown) => isApiError(err, reason) && err.httpStatus === code && err.code === 'AMBIT_ERR_API');
}

describe('ObjectStore', () => {
  it('seeds the namespaces a new cluster has', () => {
    const names = new ObjectStore().list('namespaces').items.map((n) => n.metadata.name);
    assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('assigns uid, creationTimestamp, generation and a store-wide increasing resourceVersion', () => {
    const store = new ObjectStore({ now: () => new Date('2025-01-02T03:04:05.678Z') });
    const a = store.create('pods', pod('a'));
    const b = store.create('configmaps', { metadata: { name: 'b' }, data: { k: 'v' } });
    assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(a.metadata.creationTimestamp, '2025-01-02T03:04:05Z');
    assert.equal(a.metadata.generation, 1);
    assert.equal(b.metadata.namespace, 'default', 'a namespaced object without a namespace lands in default');
    assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    assert.equal(store.resourceVersion, b.metadata.resourceVersion);
    assert.equal(store.list('pods').resourceVersion, b.metadata.resourceVersion, 'a list carries the store version, not the newest item');
  });

  it('refuses duplicates (409), missing objects (404), bad names (422), unknown namespaces (404) and wrong kinds (400)', () => {
    const store = new ObjectStore();
    store.create('pods', pod('a'));
    rejects(() => store.create('pods', pod('a')), 'AlreadyExists', 409);
    rejects(() => store.get('pods', 'default', 'nope'), 'NotFound', 404);
    rejects(() => store.delete('pods', 'default', 'nope'), 'NotFound', 404);
    rejects(() => store.create('pods', pod('Bad_Name')), 'Invalid', 422);
    rejects(() => store.create('pods', { metadata: {} }), 'Invalid', 422);
    rejects(() => store.create('pods', pod('a', { metadata: { name: 'a', namespace: 'ghost' } })), 'NotFound', 404);
    rejects(() => store.create('pods', { ...pod('x'), kind: 'Service' }), 'BadRequest', 400);
    rejects(() => store.create('pods', { metadata: { name: 'x', labels: { a: 1 } } }), 'Invalid', 422);
    assert.equal(store.tryGet('pods', 'default', 'nope'), undefined);
  });

  it('generates names from generateName', () => {
    const created = new ObjectStore().create('pods', { metadata: { generateName: 'web-' } });
    assert.match(created.metadata.name!, /^web-[a-z0-9]{5}$/);
  });

  it('replaces with optimistic concurrency and bumps generation only for spec changes', () => {
    const store = new ObjectStore();
    const v1 = store.create('deployments', { metadata: { name: 'd' }, spec: { replicas: 1 } });
    const v2 = store.replace('deployments', { ...v1, spec: { replicas: 2 } });
    assert.equal(v2.metadata.generation, 2);
    assert.equal(v2.metadata.uid, v1.metadata.uid);
    assert.equal(v2.metadata.creationTimestamp, v1.metadata.creationTimestamp);
    rejects(() => store.replace('deployments', { ...v1, spec: { replicas: 3 } }), 'Conflict', 409);
    const v3 = store.replace('deployments', { ...v2, metadata: { ...v2.metadata, labels: { a: 'b' } } });
    assert.equal(v3.metadata.generation, 2, 'a metadata-only change keeps the generation');
    const unversioned = store.replace('deployments', { metadata: { name: 'd' }, spec: { replicas: 5 } });
    assert.equal(unversioned.metadata.generation, 3, 'without a resourceVersion the write is unconditional');
  });

  it('does not bump the resourceVersion or notify anyone for a no-op write', () => {
    const store = new ObjectStore();
    const v1 = store.create('pods', pod('a'));
    let events = 0;
    store.subscribe(() => events++);
    const same = store.replace('pods', v1);
    assert.equal(same.metadata.resourceVersion, v1.metadata.resourceVersion);
    assert.equal(events, 0);
  });

  it('keeps status out of main writes and everything but status out of /status writes', () => {
    const store = new ObjectStore();
    const created = store.create('pods', pod('a', { status: { phase: 'Running' } }));
    assert.deepEqual(created.status, { phase: 'Pending' }, 'create resets status like the real pod strategy');
    const withStatus = store.replaceStatus('pods', { ...created, spec: { changed: true }, status: { phase: 'Running', podIP: '10.0.0.5' } });
    assert.deepEqual(withStatus.status, { phase: 'Running', podIP: '10.0.0.5' });
    assert.deepEqual(withStatus.spec, created.spec, 'a status write ignores spec');
    assert.equal(withStatus.metadata.generation, 1);
    const main = store.replace('pods', { ...withStatus, spec: { containers: [] }, status: { phase: 'Failed' } });
    assert.equal(main.status && (main.status as { phase: string }).phase, 'Running', 'a main write ignores status');
    assert.equal(main.metadata.generation, 2);
    const patched = store.patch('pods', 'default', 'a', { status: { phase: 'Succeeded' } }, 'merge', { subresource: 'status' });
    assert.equal((patched.status as { phase: string }).phase, 'Succeeded');
    rejects(() => store.replaceStatus('configmaps', { metadata: { name: 'x' } }), 'NotFound', 404);
  });

  it('applies merge, strategic and JSON patches, with resourceVersion preconditions', () => {
    const store = new ObjectStore();
    const v1 = store.create('services', { metadata: { name: 's', labels: { a: '1', b: '2' } }, spec: { ports: [{ port: 80 }], selector: { app: 'x' } } });
    const merged = store.patch('services', 'default', 's', { metadata: { labels: { a: null, c: '3' } }, spec: { ports: [{ port: 81 }] } }, 'merge');
    assert.deepEqual(merged.metadata.labels, { b: '2', c: '3' });
    assert.deepEqual(merged.spec, { ports: [{ port: 81 }], selector: { app: 'x' } });
    const strategic = store.patch('services', 'default', 's', { spec: { selector: { app: 'y' } } }, 'strategic');
    assert.deepEqual((strategic.spec as { selector: unknown }).selector, { app: 'y' });
    const json = store.patch('services', 'default', 's', [
      { op: 'test', path: '/spec/ports/0/port', value: 81 },
      { op: 'add', path: '/spec/ports/-', value: { port: 443 } },
      { op: 'replace', path: '/metadata/labels/b', value: 'two' },
      { op: 'remove', path: '/metadata/labels/c' },
      { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' },
    ], 'json');
    assert.deepEqual((json.spec as { ports: unknown }).ports, [{ port: 81 }, { port: 443 }]);
    assert.deepEqual(json.metadata.labels, { b: 'two' });
    assert.deepEqual(json.metadata.annotations, { b: 'two' });
    rejects(() => store.patch('services', 'default', 's', [{ op: 'test', path: '/spec/ports/0/port', value: 1 }], 'json'), 'Invalid', 422);
    rejects(() => store.patch('services', 'default', 's', [{ op: 'remove', path: '/nope/x' }], 'json'), 'Invalid', 422);
    rejects(() => store.patch('services', 'default', 's', { op: 'add' }, 'json'), 'BadRequest', 400);
    rejects(() => store.patch('services', 'default', 's', { metadata: { resourceVersion: v1.metadata.resourceVersion }, spec: { x: 1 } }, 'merge'), 'Conflict', 409);
    rejects(() => store.patch('services', 'default', 's', { metadata: { name: 'other' } }, 'merge'), 'BadRequest', 400);
    rejects(() => store.patch('services', 'default', 'ghost', { spec: {} }, 'merge'), 'NotFound', 404);
    const applied = store.patch('services', 'default', 'new', { spec: { ports: [{ port: 1 }] } }, 'apply');
    assert.equal(applied.metadata.name, 'new', 'an apply patch creates a missing object');
  });

  it('apply() creates or replaces a manifest and keeps the stored status', () => {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'default' }, spec: { for: 'service' } });
    store.patch('waypoints', 'default', 'wp', { status: { ready: true } }, 'merge', { subresource: 'status' });
    const again = store.apply({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'default' }, spec: { for: 'all' } });
    assert.deepEqual(again.spec, { for: 'all' });
    assert.deepEqual(again.status, { ready: true });
    assert.equal(again.metadata.generation, 2);
    rejects(() => store.apply({ apiVersion: 'v9', kind: 'Nope', metadata: { name: 'x' } }), 'NotFound', 404);
  });

  it('lists with label and field selectors, namespaces and pages', () => {
    const store = new ObjectStore();
    store.create('namespaces', { metadata: { name: 'other' } });
    store.create('pods', pod('a', { spec: { nodeName: 'n1' } }));
    store.create('pods', pod('b', { metadata: { name: 'b', labels: { app: 'db' } }, spec: { nodeName: 'n2' } }));
    store.create('pods', pod('c', { metadata: { name: 'c', namespace: 'other', labels: { app: 'web' } } }));
    const names = (opts: Parameters<ObjectStore['list']>[1]) => store.list('pods', opts).items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    assert.deepEqual(names({}), ['default/a', 'default/b', 'other/c']);
    assert.deepEqual(names({ namespace: 'default' }), ['default/a', 'default/b']);
    assert.deepEqual(names({ labelSelector: 'app=web' }), ['default/a', 'other/c']);
    assert.deepEqual(names({ fieldSelector: 'spec.nodeName=n2' }), ['default/b']);
    assert.deepEqual(names({ labelSelector: 'app in (web,db)', fieldSelector: 'metadata.namespace!=other' }), ['default/a', 'default/b']);
    const first = store.list('pods', { limit: 2 });
    assert.equal(first.items.length, 2);
    assert.equal(first.remainingItemCount, 1);
    const rest = store.list('pods', { limit: 2, continue: first.continue! });
    assert.deepEqual(rest.items.map((p) => p.metadata.name), ['c']);
    assert.equal(rest.continue, undefined);
    rejects(() => store.list('pods', { labelSelector: 'a in' }), 'BadRequest', 400);
    rejects(() => store.list('pods', { continue: 'garbage' }), 'BadRequest', 400);
  });

  it('returns private copies: changing a result does not change the store', () => {
    const store = new ObjectStore();
    const a = store.create('pods', pod('a'));
    a.metadata.labels!.app = 'changed';
    assert.equal(store.get('pods', 'default', 'a').metadata.labels!.app, 'web');
  });

  it('deleting a namespace deletes its objects first, each with its own event', () => {
    const store = new ObjectStore();
    store.create('namespaces', { metadata: { name: 'shop' } });
    store.create('pods', pod('p', { metadata: { name: 'p', namespace: 'shop' } }));
    store.create('services', { metadata: { name: 's', namespace: 'shop' } });
    store.create('pods', pod('keep'));
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.resource.plural} ${e.object.metadata.name} ${e.resourceVersion}`));
    const gone = store.delete('namespaces', undefined, 'shop');
    assert.equal(gone.metadata.name, 'shop');
    assert.equal(store.list('pods', { namespace: 'shop' }).items.length, 0);
    assert.equal(store.list('services', { namespace: 'shop' }).items.length, 0);
    assert.equal(store.list('pods').items.length, 1);
    assert.deepEqual(seen.map((s) => s.split(' ').slice(0, 3).join(' ')), ['DELETED pods p', 'DELETED services s', 'DELETED namespaces shop']);
    const rvs = seen.map((s) => Number(s.split(' ')[3]));
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
    assert.equal(gone.metadata.resourceVersion, String(rvs[2]), 'the returned object carries the deletion version');
  });

  it('garbage-collects dependents whose owners are all gone, unless told to orphan them', () => {
    const store = new ObjectStore();
    const deploy = store.create('deployments', { metadata: { name: 'web' }, spec: {} });
    const other = store.create('deployments', { metadata: { name: 'other' }, spec: {} });
    const ref = (o: KubeObject) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: o.metadata.name, uid: o.metadata.uid! });
    store.create('pods', pod('owned', { metadata: { name: 'owned', ownerReferences: [ref(deploy)] } }));
    store.create('pods', pod('shared', { metadata: { name: 'shared', ownerReferences: [ref(deploy), ref(other)] } }));
    store.create('configmaps', { metadata: { name: 'grandchild', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'owned', uid: store.get('pods', 'default', 'owned').metadata.uid }] } });
    store.create('pods', pod('free'));
    store.delete('deployments', 'default', 'web');
    assert.deepEqual(store.list('pods').items.map((p) => p.metadata.name), ['free', 'shared'], 'a pod with a live owner stays');
    assert.deepEqual(store.get('pods', 'default', 'shared').metadata.ownerReferences, [ref(other)], 'and loses its reference to the deleted one');
    assert.equal(store.tryGet('configmaps', 'default', 'grandchild'), undefined, 'the cascade follows owners of owners');
    store.delete('deployments', 'default', 'other', { orphanDependents: true });
    assert.equal(store.get('pods', 'default', 'shared').metadata.ownerReferences, undefined, 'an orphaned dependent stays, without the reference');
    assert.equal(store.deleteCollection('pods', { labelSelector: 'app=web' }).length, 1, 'only free has the label');
    assert.equal(store.deleteCollection('pods').length, 1);
  });

  it('accepts an object whose owners are all gone, then collects it, as the garbage collector does', async () => {
    const store = new ObjectStore();
    const owner = store.create('deployments', { metadata: { name: 'web' }, spec: {} });
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner.metadata.uid! };
    store.delete('deployments', 'default', 'web');
    store.create('configmaps', { metadata: { name: 'late', ownerReferences: [ref] } });
    store.create('configmaps', { metadata: { name: 'mixed', ownerReferences: [ref, { apiVersion: 'v1', kind: 'ConfigMap', name: 'late', uid: store.get('configmaps', 'default', 'late').metadata.uid! }] } });
    assert.ok(store.tryGet('configmaps', 'default', 'late'), 'the write is not refused');
    await new Promise((r) => setImmediate(r));
    assert.equal(store.tryGet('configmaps', 'default', 'late'), undefined);
    assert.equal(store.tryGet('configmaps', 'default', 'mixed'), undefined, 'nor what only it owned');
    // With the collector off (kube-controller-manager down) dependents stay, naming their gone owner.
    store.garbageCollector = false;
    store.create('configmaps', { metadata: { name: 'kept', ownerReferences: [ref] } });
    const again = store.create('deployments', { metadata: { name: 'web2' }, spec: {} });
    store.create('pods', pod('child', { metadata: { name: 'child', ownerReferences: [{ ...ref, name: 'web2', uid: again.metadata.uid! }] } }));
    store.delete('deployments', 'default', 'web2');
    await new Promise((r) => setImmediate(r));
    assert.ok(store.tryGet('configmaps', 'default', 'kept'));
    assert.equal(store.get('pods', 'default', 'child').metadata.ownerReferences?.[0]?.uid, again.metadata.uid);
  });

  it('delivers events to subscribers in order, even when a subscriber writes', () => {
    const store = new ObjectStore();
    const a: number[] = [];
    const b: number[] = [];
    store.subscribe((e) => {
      a.push(e.resourceVersion);
      // A reaction that writes: its event must reach everyone after the current one.
      if (e.type === 'ADDED' && e.resource.plural === 'pods') store.create('events', { metadata: { name: `ev-${e.object.metadata.name}` } });
    });
    store.subscribe((e) => b.push(e.resourceVersion));
    store.subscribe(() => {
      throw new Error('a broken listener must not break the store');
    });
    store.create('pods', pod('a'));
    store.create('pods', pod('b'));
    assert.deepEqual(a, [...a].sort((x, y) => x - y));
    assert.deepEqual(b, a);
    assert.equal(a.length, 4);
  });

  describe('watch', () => {
    type Seen = [EventType, string, string];
    const collect = (store: ObjectStore, opts: Parameters<ObjectStore['watch']>[1]) => {
      const seen: Seen[] = [];
      const stop = store.watch('pods', opts, (type, o) => seen.push([type, o.metadata.name!, o.metadata.resourceVersion!]));
      return { seen, stop };
    };

    it('without a resourceVersion starts with ADDED for every matching object', () => {
      const store = new ObjectStore();
      store.create('pods', pod('a'));
      store.create('pods', pod('b', { metadata: { name: 'b', labels: { app: 'db' } } }));
      const { seen } = collect(store, { labelSelector: 'app=web' });
      assert.deepEqual(seen.map(([t, n]) => `${t} ${n}`), ['ADDED a']);
    });

    it('resumes from a resourceVersion and reports selector transitions as ADDED/DELETED', () => {
      const store = new ObjectStore();
      const a = store.create('pods', pod('a'));
      const { seen, stop } = collect(store, { resourceVersion: a.metadata.resourceVersion, labelSelector: 'app=web' });
      store.create('pods', pod('b'));
      const moved = store.patch('pods', 'default', 'a', { metadata: { labels: { app: 'db' } } }, 'merge');
      store.patch('pods', 'default', 'a', { metadata: { labels: { app: 'web' } } }, 'merge');
      store.patch('pods', 'default', 'b', { spec: { x: 1 } }, 'merge');
      store.delete('pods', 'default', 'b');
      stop();
      store.create('pods', pod('after-stop'));
      assert.deepEqual(seen.map(([t, n]) => `${t} ${n}`), ['ADDED b', 'DELETED a', 'ADDED a', 'MODIFIED b', 'DELETED b']);
      assert.equal(seen[1]![2], moved.metadata.resourceVersion, 'the DELETED for leaving the selection carries the new version');
    });

    it('replays history from an old resourceVersion and answers 410 Expired once it is evicted', () => {
      const store = new ObjectStore({ historySize: 5, seedNamespaces: false });
      store.create('namespaces', { metadata: { name: 'default' } });
      const first = store.create('pods', pod('p0'));
      const { seen } = collect(store, { resourceVersion: '1' });
      assert.deepEqual(seen.map(([t, n]) => `${t} ${n}`), ['ADDED p0']);
      for (let i = 1; i <= 6; i++) store.create('pods', pod(`p${i}`));
      rejects(() => store.watch('pods', { resourceVersion: first.metadata.resourceVersion }, () => {}), 'Expired', 410);
      const recent = collect(store, { resourceVersion: String(Number(store.resourceVersion) - 2) });
      assert.deepEqual(recent.seen.map(([, n]) => n), ['p5', 'p6']);
      rejects(() => store.watch('pods', { resourceVersion: 'abc' }, () => {}), 'BadRequest', 400);
    });

    it('gives every listener the same frozen snapshot', () => {
      const store = new ObjectStore();
      let event: StoreEvent | undefined;
      store.subscribe((e) => (event = e));
      store.create('pods', pod('a'));
      assert.ok(Object.isFrozen(event!.object) && Object.isFrozen(event!.object.metadata));
    });
  });
});
