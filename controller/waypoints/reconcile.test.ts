import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { InformerEvent } from '../../lib/k8s/informer.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { ModelChange, RawObject, StatusBody, StatusKind, StatusPatcher } from '../model/index.js';
import { until } from '../fixtures.js';
import type { Leadership } from '../leader/index.js';
import { ApiRequestError, type OwnedObjects } from './client.js';
import type { OwnedKind } from './objects.js';
import { WaypointReconciler, type WaypointView } from './reconcile.js';
import { TrustBundleCopies, type BundleConfigMaps } from './trust-bundle.js';

/** An API server in a Map, with failures to inject and an optional mutation of what is written (a webhook). */
class FakeObjects implements OwnedObjects {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  /** Failures for the next calls of a verb, in order. */
  readonly failures: { verb: string; code: number }[] = [];
  mutate: ((o: KubeObject) => void) | undefined;
  private rv = 0;
  private readonly listeners: ((kind: OwnedKind, event: InformerEvent, obj: KubeObject) => void)[] = [];
  private key = (kind: OwnedKind, ns: string, name: string) => `${kind}/${ns}/${name}`;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  onChange(fn: (kind: OwnedKind, event: InformerEvent, obj: KubeObject) => void): void {
    this.listeners.push(fn);
  }
  get(kind: OwnedKind, ns: string, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(kind, ns, name));
    return o?.metadata.labels?.['ambit.dev/waypoint'] ? structuredClone(o) : undefined;
  }
  list(kind: OwnedKind): readonly KubeObject[] {
    return [...this.objects.entries()].filter(([k, o]) => k.startsWith(`${kind}/`) && o.metadata.labels?.['ambit.dev/waypoint']).map(([, o]) => structuredClone(o));
  }
  async read(kind: OwnedKind, ns: string, name: string): Promise<KubeObject | undefined> {
    this.call('read', kind);
    const o = this.objects.get(this.key(kind, ns, name));
    return o && structuredClone(o);
  }
  async create(kind: OwnedKind, ns: string, body: KubeObject): Promise<KubeObject> {
    this.call('create', kind);
    if (this.objects.has(this.key(kind, ns, body.metadata.name))) throw new ApiRequestError(409, `${kind} "${body.metadata.name}" already exists`);
    return this.store(kind, 'add', { ...structuredClone(body), metadata: { ...structuredClone(body.metadata), uid: `uid-${++this.rv}` } });
  }
  async replace(kind: OwnedKind, ns: string, name: string, body: KubeObject): Promise<KubeObject> {
    this.call('replace', kind);
    const cur = this.objects.get(this.key(kind, ns, name));
    if (!cur) throw new ApiRequestError(404, 'not found');
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiRequestError(409, 'the object has been modified');
    return this.store(kind, 'update', structuredClone(body));
  }
  async delete(kind: OwnedKind, ns: string, name: string): Promise<void> {
    this.call('delete', kind);
    const cur = this.objects.get(this.key(kind, ns, name));
    if (!cur) throw new ApiRequestError(404, 'not found');
    this.objects.delete(this.key(kind, ns, name));
    for (const fn of this.listeners) fn(kind, 'delete', cur);
  }
  /** A change by someone else. */
  edit(kind: OwnedKind, ns: string, name: string, fn: (o: any) => void): void {
    const o = structuredClone(this.objects.get(this.key(kind, ns, name))!);
    fn(o);
    this.store(kind, 'update', o, false);
  }
  count(verb: string, kind: OwnedKind): number {
    return this.calls.filter((c) => c === `${verb} ${kind}`).length;
  }
  private call(verb: string, kind: OwnedKind): void {
    this.calls.push(`${verb} ${kind}`);
    const i = this.failures.findIndex((f) => f.verb === verb);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw new ApiRequestError(f!.code, f!.code === 409 ? 'the object has been modified; please apply your changes to the latest version and try again' : 'etcdserver: request timed out');
    }
  }
  private store(kind: OwnedKind, event: InformerEvent, o: KubeObject, mutate = true): KubeObject {
    if (mutate) this.mutate?.(o);
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(kind, o.metadata.namespace!, o.metadata.name), o);
    // The informer delivers after the write returns.
    setImmediate(() => {
      for (const fn of this.listeners) fn(kind, event, structuredClone(o));
    });
    return structuredClone(o);
  }
}

class FakeView implements WaypointView {
  waypoints: RawObject[] = [];
  pods: V1Pod[] = [];
  private readonly listeners = new Set<(c: ModelChange) => void>();
  waypointObjects(): readonly RawObject[] {
    return this.waypoints;
  }
  waypointPods(namespace: string, name: string): readonly V1Pod[] {
    return this.pods.filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.['ambit.dev/waypoint'] === name);
  }
  onChange(fn: (c: ModelChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  changed(kind: 'Waypoint' | 'Pod'): void {
    for (const fn of this.listeners) fn({ kind, types: [], status: true });
  }
}

class FakePatcher implements StatusPatcher {
  readonly written: { kind: StatusKind; name: string; types: string[] }[] = [];
  failures = 0;
  constructor(private readonly view: FakeView) {}
  async patch(kind: StatusKind, _ns: string, name: string, body: StatusBody): Promise<void> {
    // A Waypoint's status is conditions (a route's would be per-parent entries).
    const status = body as { conditions: { type: string; status: string }[] };
    if (this.failures > 0) {
      this.failures--;
      throw new ApiRequestError(503, 'the server is currently unable to handle the request');
    }
    this.written.push({ kind, name, types: status.conditions.map((c) => `${c.type}=${c.status}`) });
    const wp = this.view.waypoints.find((w) => w.metadata?.name === name)!;
    wp.status = status;
    wp.metadata = { ...wp.metadata, resourceVersion: String(Number(wp.metadata?.resourceVersion ?? 0) + 1) };
  }
}

function setup(opts: { leadership?: Leadership; bundles?: TrustBundleCopies } = {}) {
  const lines: { level: number; msg: string; code?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const view = new FakeView();
  const objects = new FakeObjects();
  const patcher = new FakePatcher(view);
  let backoffs = 0;
  const reconciler = new WaypointReconciler({
    view,
    objects,
    patcher,
    template: { image: 'ambit:test', controllerAddress: 'ctl:15010', controllerIdentity: 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller', trustDomain: 'cluster.local', tokenAudience: 'ambit-controller', rootCaConfigMap: 'ambit-root-ca', resources: {} },
    log,
    debounceMs: 1,
    backoff: { next: () => (backoffs++, 5), reset: () => undefined },
    ...opts,
  });
  const waypoint = (replicas: number): RawObject => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop', uid: 'uid-wp', generation: 1, resourceVersion: '1' }, spec: { replicas } });
  const deployment = () => objects.get('Deployment', 'shop', 'wp') as (KubeObject & { spec: any }) | undefined;
  return { lines, view, objects, patcher, reconciler, waypoint, deployment, backoffs: () => backoffs };
}

/** Lets every pending pass run. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('WaypointReconciler', () => {
  it('retries a refused create and a conflicting update with backoff, logging each, and never throws', async () => {
    const t = setup();
    t.view.waypoints = [t.waypoint(1)];
    t.objects.failures.push({ verb: 'create', code: 500 });
    await t.reconciler.start();
    await until('the objects exist', () => t.deployment() !== undefined && t.objects.get('Service', 'shop', 'wp') !== undefined && t.objects.get('ServiceAccount', 'shop', 'wp') !== undefined);
    assert.ok(t.backoffs() >= 1, 'retried after a backoff');
    const refused = t.lines.find((l) => l.level === 40 && /could not create ServiceAccount shop\/wp; will retry/.test(l.msg));
    assert.equal(refused?.code, 'AMBIT_ERR_API');

    t.objects.failures.push({ verb: 'replace', code: 409 });
    t.view.waypoints = [{ ...t.waypoint(4), metadata: { ...t.waypoint(4).metadata, generation: 2 } }];
    t.view.changed('Waypoint');
    await until('replicas 4', () => t.deployment()?.spec.replicas === 4);
    assert.ok(t.lines.some((l) => l.level === 40 && /could not update Deployment shop\/wp; will retry/.test(l.msg)));
    t.reconciler.stop();
  });

  it('puts back what someone changes, but does not fight what the API server does to its own write', async () => {
    const t = setup();
    t.view.waypoints = [t.waypoint(2)];
    // A webhook pins images to a digest on every write.
    t.objects.mutate = (o) => {
      for (const c of (o as any).spec?.template?.spec?.containers ?? []) c.image = `${c.image.split('@')[0]}@sha256:abc`;
    };
    await t.reconciler.start();
    await until('created', () => t.deployment() !== undefined);
    await settle();
    for (let i = 0; i < 3; i++) {
      t.view.changed('Pod');
      await settle();
    }
    assert.equal(t.objects.count('replace', 'Deployment'), 0, 'its own write, as the server left it, is left alone');

    t.objects.edit('Deployment', 'shop', 'wp', (d) => (d.spec.replicas = 7));
    await until('put back', () => t.deployment()?.spec.replicas === 2);
    assert.equal(t.objects.count('replace', 'Deployment'), 1);
    assert.ok(t.lines.some((l) => /Deployment shop\/wp: put back what was changed \(spec.replicas, spec.template.spec.containers\[0\].image\)/.test(l.msg)));
    await settle();
    assert.equal(t.objects.count('replace', 'Deployment'), 1, 'settles after putting back');
    t.reconciler.stop();
  });

  it('writes the status when it changes only, and retries a failed write', async () => {
    const t = setup();
    t.view.waypoints = [t.waypoint(1)];
    t.patcher.failures = 1;
    await t.reconciler.start();
    await until('status written', () => t.patcher.written.length === 1);
    assert.deepEqual(t.patcher.written[0], { kind: 'Waypoint', name: 'wp', types: ['Accepted=True', 'Programmed=False'] });
    assert.ok(t.lines.some((l) => l.level === 40 && /writing the status of Waypoint shop\/wp failed; will retry/.test(l.msg)));
    for (let i = 0; i < 3; i++) {
      t.view.changed('Pod');
      await settle();
    }
    assert.equal(t.patcher.written.length, 1, 'nothing changed, nothing written');

    t.view.pods = [
      {
        metadata: { name: 'wp-1', namespace: 'shop', uid: 'p1', labels: { 'ambit.dev/waypoint': 'wp' } },
        spec: { nodeName: 'n', containers: [] },
        status: { phase: 'Running', podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ];
    t.view.changed('Pod');
    await until('Programmed', () => t.patcher.written.length === 2);
    assert.deepEqual(t.patcher.written[1]!.types, ['Accepted=True', 'Programmed=True']);
    t.reconciler.stop();
  });

  it('adopts an object of its name that carries its label but lost its owner reference', async () => {
    const t = setup();
    t.view.waypoints = [t.waypoint(1)];
    await t.reconciler.start();
    await until('created', () => t.objects.get('Service', 'shop', 'wp') !== undefined);
    t.objects.edit('Service', 'shop', 'wp', (s) => delete s.metadata.ownerReferences);
    await until('owned again', () => (t.objects.get('Service', 'shop', 'wp')!.metadata.ownerReferences ?? []).some((r) => r.uid === 'uid-wp'));
    assert.ok(t.lines.some((l) => /Service shop\/wp: adopted \(metadata.ownerReferences\)/.test(l.msg)));
    t.reconciler.stop();
  });

  it('writes nothing while following, catches up on becoming leader, and stops before the next write when it stops leading', async () => {
    let leading = false;
    const fns = new Set<(l: boolean) => void>();
    const leadership: Leadership = {
      get isLeader() {
        return leading;
      },
      onChange: (fn) => (fns.add(fn), () => void fns.delete(fn)),
    };
    const flip = (v: boolean) => {
      leading = v;
      for (const fn of fns) fn(v);
    };
    // The trust bundle's copies, an API server that records what is written.
    const copies: string[] = [];
    const configMaps: BundleConfigMaps = {
      start: async () => undefined,
      stop: async () => undefined,
      onChange: () => undefined,
      get: () => undefined,
      list: () => [],
      create: async (ns, body) => (copies.push(`create ${ns}`), body),
      replace: async (ns, body) => (copies.push(`replace ${ns}`), body),
      delete: async (ns) => void copies.push(`delete ${ns}`),
    };
    const bundles = new TrustBundleCopies({ configMaps, name: 'ambit-root-ca', ownNamespace: 'ambit-system', pem: 'PEM', log: pino({ level: 'silent' }) });
    const t = setup({ leadership, bundles });
    t.view.waypoints = [t.waypoint(1)];
    await t.reconciler.start();
    t.view.changed('Waypoint');
    await settle();
    assert.deepEqual(t.objects.calls, [], 'a follower creates nothing');
    assert.deepEqual(copies, [], 'no trust bundle either');
    assert.deepEqual(t.patcher.written, [], 'and writes no status');

    flip(true);
    await until('created and status written', () => t.deployment() !== undefined && t.patcher.written.length === 1);
    assert.deepEqual(copies, ['create shop'], 'the bundle beside it, written by the leader');

    // A second Waypoint, and leadership lost while its ServiceAccount is being created: nothing after that write.
    t.view.waypoints = [t.waypoint(1), { ...t.waypoint(1), metadata: { ...t.waypoint(1).metadata, name: 'wp2', uid: 'uid-wp2' } }];
    const calls = t.objects.calls.length;
    t.objects.mutate = () => flip(false);
    t.view.changed('Waypoint');
    await settle();
    t.objects.mutate = undefined;
    assert.deepEqual(t.objects.calls.slice(calls), ['create ServiceAccount'], 'the write in flight finishes; none follows it');
    assert.equal(t.patcher.written.length, 1);
    t.reconciler.stop();
  });
});
