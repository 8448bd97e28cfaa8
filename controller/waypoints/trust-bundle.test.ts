import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { InformerEvent } from '../../lib/k8s/informer.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { RawObject } from '../model/index.js';
import { ApiRequestError } from './client.js';
import { TrustBundleCopies, type BundleConfigMaps } from './trust-bundle.js';

const NAME = 'ambit-root-ca';
const PEM = '-----BEGIN CERTIFICATE-----\nroot-1\n-----END CERTIFICATE-----\n';

/** ConfigMaps named NAME in a Map, as an API server with an informer on them would show them. */
class FakeConfigMaps implements BundleConfigMaps {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  readonly failures: { verb: string; code: number }[] = [];
  private rv = 0;
  private readonly listeners: ((event: InformerEvent, obj: KubeObject) => void)[] = [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  onChange(fn: (event: InformerEvent, obj: KubeObject) => void): void {
    this.listeners.push(fn);
  }
  get(namespace: string): KubeObject | undefined {
    const o = this.objects.get(namespace);
    return o && structuredClone(o);
  }
  list(): readonly KubeObject[] {
    return [...this.objects.values()].map((o) => structuredClone(o));
  }
  async create(namespace: string, body: KubeObject): Promise<KubeObject> {
    this.call('create', namespace);
    if (this.objects.has(namespace)) throw new ApiRequestError(409, `configmaps "${NAME}" already exists`);
    return this.store({ ...structuredClone(body), metadata: { ...structuredClone(body.metadata), uid: `uid-cm-${++this.rv}` } });
  }
  async replace(namespace: string, body: KubeObject): Promise<KubeObject> {
    this.call('replace', namespace);
    const cur = this.objects.get(namespace);
    if (!cur) throw new ApiRequestError(404, 'not found');
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiRequestError(409, 'the object has been modified');
    return this.store(structuredClone(body));
  }
  async delete(namespace: string, uid: string): Promise<void> {
    this.call('delete', namespace);
    const cur = this.objects.get(namespace);
    if (!cur) throw new ApiRequestError(404, 'not found');
    if (cur.metadata.uid !== uid) throw new ApiRequestError(409, 'Precondition failed: UID in precondition');
    this.objects.delete(namespace);
    this.notify('delete', cur);
  }
  /** A change by someone else (or the garbage collector). */
  put(namespace: string, o: Record<string, unknown> | undefined): void {
    const cur = this.objects.get(namespace);
    if (o === undefined) {
      this.objects.delete(namespace);
      if (cur) this.notify('delete', cur);
    } else this.store({ metadata: { name: NAME, namespace, uid: `uid-cm-${++this.rv}` }, ...o } as KubeObject);
  }
  count(verb: string): number {
    return this.calls.filter((c) => c.startsWith(`${verb} `)).length;
  }
  private call(verb: string, namespace: string): void {
    this.calls.push(`${verb} ${namespace}`);
    const i = this.failures.findIndex((f) => f.verb === verb);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw new ApiRequestError(f!.code, 'etcdserver: request timed out');
    }
  }
  private store(o: KubeObject): KubeObject {
    o.metadata.resourceVersion = String(++this.rv);
    const event = this.objects.has(o.metadata.namespace!) ? 'update' : 'add';
    this.objects.set(o.metadata.namespace!, o);
    this.notify(event, o);
    return structuredClone(o);
  }
  private notify(event: InformerEvent, o: KubeObject): void {
    const copy = structuredClone(o);
    // The informer delivers after the write returns.
    setImmediate(() => {
      for (const fn of this.listeners) fn(event, copy);
    });
  }
}

/** Waypoints of the model, as the reconciler hands them over. */
const waypoints = (...refs: [namespace: string, name: string][]): RawObject[] =>
  refs.map(([namespace, name]) => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { namespace, name, uid: `uid-${namespace}-${name}` } }));

function setup(opts: { pem?: string; configMaps?: FakeConfigMaps } = {}) {
  const lines: { level: number; msg: string }[] = [];
  const configMaps = opts.configMaps ?? new FakeConfigMaps();
  const copies = new TrustBundleCopies({
    configMaps,
    name: NAME,
    ownNamespace: 'ambit-system',
    pem: opts.pem ?? PEM,
    log: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
  });
  /** One pass over `wps`, once the informer has delivered what came before. */
  const sync = async (wps: RawObject[]) => {
    await new Promise((r) => setImmediate(r));
    return copies.sync(wps, () => false);
  };
  const owners = (ns: string) => ((configMaps.get(ns)?.metadata.ownerReferences ?? []) as { name: string; uid: string; controller?: boolean }[]).map((r) => `${r.name}/${r.uid}${r.controller ? '/controller' : ''}`);
  const data = (ns: string) => (configMaps.get(ns) as { data?: Record<string, string> } | undefined)?.data;
  return { lines, configMaps, copies, sync, owners, data };
}

describe('TrustBundleCopies', () => {
  it('puts the bundle in every namespace with a Waypoint, owned by its Waypoints, and none where the publisher writes it', async () => {
    const t = setup();
    const wps = waypoints(['shop', 'wp'], ['shop', 'wp2'], ['books', 'wp'], ['ambit-system', 'wp']);
    assert.equal(await t.sync(wps), 0);
    assert.deepEqual(t.data('shop'), { 'root-cert.pem': PEM });
    assert.deepEqual(t.owners('shop'), ['wp/uid-shop-wp', 'wp2/uid-shop-wp2'], 'every Waypoint of the namespace owns it, none controls it');
    assert.deepEqual(t.owners('books'), ['wp/uid-books-wp']);
    assert.equal(t.configMaps.get('shop')!.metadata.labels?.['app.kubernetes.io/part-of'], 'ambit');
    assert.ok(t.lines.some((l) => l.msg === 'created ConfigMap shop/ambit-root-ca: the trust bundle of the Waypoints there'));
    await t.sync(wps);
    assert.deepEqual(t.configMaps.calls.sort(), ['create books', 'create shop'], 'one write each, none in ambit-system, and it settles');
  });

  it('puts the bundle back when it is edited or deleted, and rewrites it when the roots change', async () => {
    const t = setup();
    const wps = waypoints(['shop', 'wp']);
    await t.sync(wps);
    t.configMaps.put('shop', { ...t.configMaps.get('shop')!, data: { 'root-cert.pem': 'tampered', extra: 'x' } });
    await t.sync(wps);
    assert.deepEqual(t.data('shop'), { 'root-cert.pem': PEM });
    assert.ok(t.lines.some((l) => l.msg === 'updated ConfigMap shop/ambit-root-ca (the bundle)'));
    t.configMaps.put('shop', undefined);
    await t.sync(wps);
    assert.equal(t.data('shop')?.['root-cert.pem'], PEM, 'created again, however recently it was created before');

    // A controller started with a rotated bundle (both roots) updates every copy.
    const rotated = `${PEM}-----BEGIN CERTIFICATE-----\nroot-2\n-----END CERTIFICATE-----\n`;
    await setup({ pem: rotated, configMaps: t.configMaps }).sync(wps);
    assert.equal(t.data('shop')?.['root-cert.pem'], rotated);
    assert.deepEqual(t.owners('shop'), ['wp/uid-shop-wp'], 'owners unchanged');
  });

  it('follows the Waypoints of a namespace, deletes the copy once the last goes, and leaves ConfigMaps it does not own', async () => {
    const t = setup();
    // Someone's own ConfigMap of that name where no Waypoint is, and a hand-made one where one is.
    t.configMaps.put('other', { data: { 'root-cert.pem': 'mine' } });
    t.configMaps.put('books', { data: { 'root-cert.pem': 'stale' }, metadata: { name: NAME, namespace: 'books', uid: 'hand', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'keep-uid' }] } });
    await t.sync(waypoints(['shop', 'wp'], ['shop', 'wp2'], ['books', 'wp']));
    assert.deepEqual(t.owners('shop'), ['wp/uid-shop-wp', 'wp2/uid-shop-wp2']);
    assert.equal(t.data('books')?.['root-cert.pem'], PEM);
    assert.deepEqual(t.owners('books'), ['wp/uid-books-wp', 'keep/keep-uid'], 'adopted, with the owner someone else set kept');

    await t.sync(waypoints(['shop', 'wp2'], ['books', 'wp']));
    assert.deepEqual(t.owners('shop'), ['wp2/uid-shop-wp2']);
    assert.ok(t.lines.some((l) => l.msg === 'updated ConfigMap shop/ambit-root-ca (its Waypoints)'));

    await t.sync([]);
    assert.equal(t.configMaps.get('shop'), undefined);
    assert.ok(t.lines.some((l) => l.msg === 'deleted ConfigMap shop/ambit-root-ca: no Waypoint is left in shop'));
    assert.ok(t.configMaps.get('books'), 'a copy that something else owns too is not ours to delete');
    assert.deepEqual(t.data('other'), { 'root-cert.pem': 'mine' }, 'nor is one no Waypoint owns');
  });

  it('deletes a copy left behind by Waypoints that are gone (the garbage collector may not have), and takes a 404 as done', async () => {
    const t = setup();
    const orphan = (ns: string) => ({ data: { 'root-cert.pem': PEM }, metadata: { name: NAME, namespace: ns, uid: `cm-${ns}`, ownerReferences: [{ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', name: 'old', uid: 'gone' }] } });
    t.configMaps.put('old-ns', orphan('old-ns'));
    await t.sync([]);
    assert.equal(t.configMaps.get('old-ns'), undefined);
    t.configMaps.put('again', orphan('again'));
    t.configMaps.failures.push({ verb: 'delete', code: 404 });
    assert.equal(await t.sync([]), 0, 'a 404 is the garbage collector having been first, not a failure');
    assert.ok(!t.lines.some((l) => l.level >= 40));
  });

  it('reports a failed write for a retry, saying the proxies there wait for it, and stops when halted', async () => {
    const t = setup();
    t.configMaps.failures.push({ verb: 'create', code: 500 });
    assert.equal(await t.sync(waypoints(['shop', 'wp'])), 1);
    assert.ok(t.lines.some((l) => l.level === 40 && l.msg === 'could not create ConfigMap shop/ambit-root-ca; will retry (waypoint proxies there cannot start without it)'));
    assert.equal(await t.sync(waypoints(['shop', 'wp'])), 0);
    assert.ok(t.configMaps.get('shop'));
    assert.equal(await t.copies.sync(waypoints(['books', 'wp']), () => true), 0);
    assert.equal(t.configMaps.get('books'), undefined, 'no write once halted');
  });
});
