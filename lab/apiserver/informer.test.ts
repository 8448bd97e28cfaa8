import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADD,
  CoreV1Api,
  CustomObjectsApi,
  DELETE,
  ERROR,
  KubeConfig,
  makeInformer,
  UPDATE,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ListWatch,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './server.js';
import { ObjectStore } from './store.js';

/**
 * The contract that matters most: the real @kubernetes/client-node informer
 * (list, then watch from the list's resourceVersion, relist on 410) works
 * against the lab API server as against kube-apiserver.
 */

const TOKEN = 'lab-token';

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  // client-node refuses plain http unless skipTLSVerify is set.
  kc.loadFromOptions({
    clusters: [{ name: 'lab', server, skipTLSVerify: true }],
    users: [{ name: 'lab', token: TOKEN }],
    contexts: [{ name: 'lab', cluster: 'lab', user: 'lab' }],
    currentContext: 'lab',
  });
  return kc;
}

/** Records informer callbacks as "verb name" strings. */
function record<T extends KubernetesObject>(informer: Informer<T>): string[] {
  const log: string[] = [];
  informer.on(ADD, (o) => log.push(`add ${o.metadata?.name}`));
  informer.on(UPDATE, (o) => log.push(`update ${o.metadata?.name}`));
  informer.on(DELETE, (o) => log.push(`delete ${o.metadata?.name}`));
  return log;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pod = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }] } });

describe('@kubernetes/client-node informers against the lab API server', () => {
  let store: ObjectStore;
  let server: ApiServer;
  let kc: KubeConfig;
  const informers: Informer<KubernetesObject>[] = [];
  const start = async <T extends KubernetesObject, I extends Informer<T> & ObjectCache<T>>(informer: I): Promise<I> => {
    informers.push(informer as unknown as Informer<KubernetesObject>);
    await informer.start();
    return informer;
  };

  before(async () => {
    store = new ObjectStore();
    server = await startApiServer({ store, token: TOKEN });
    kc = kubeConfig(server.url);
  });
  after(async () => {
    for (const i of informers) await i.stop();
    await server.close();
  });

  it('a namespaced pod informer sees add, update and delete', async () => {
    store.create('pods', pod('before'));
    const core = kc.makeApiClient(CoreV1Api);
    const informer = await start(makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' })));
    const log = record(informer);
    assert.deepEqual(informer.list().map((p) => p.metadata?.name), ['before'], 'the initial list fills the cache');

    store.create('pods', pod('p1'));
    await until('add p1', () => log.includes('add p1'));
    store.patch('pods', 'default', 'p1', { metadata: { labels: { v: '2' } } }, 'merge');
    await until('update p1', () => log.includes('update p1'));
    assert.equal(informer.get('p1', 'default')?.metadata?.labels?.v, '2');
    // Writes through the typed client reach the informer too.
    await core.createNamespacedPod({ namespace: 'default', body: pod('via-http') as V1Pod });
    await until('add via-http', () => log.includes('add via-http'));
    store.delete('pods', 'default', 'p1');
    await until('delete p1', () => log.includes('delete p1'));
    assert.deepEqual(log, ['add p1', 'update p1', 'add via-http', 'delete p1']);
    // makeInformer returns a ListWatch; its resourceVersion is where it resumes.
    assert.equal((informer as ListWatch<V1Pod>).latestResourceVersion(), store.resourceVersion);
  });

  it('a label-selector informer sees an object leave and re-enter the selection', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const informer = await start(
      makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: 'app=web' }), 'app=web'),
    );
    const log = record(informer);
    store.create('pods', pod('web-1', { app: 'web' }));
    store.create('pods', pod('db-1', { app: 'db' }));
    await until('add web-1', () => log.includes('add web-1'));
    store.patch('pods', 'default', 'web-1', { metadata: { labels: { app: 'db' } } }, 'merge');
    await until('delete web-1', () => log.includes('delete web-1'));
    assert.equal(informer.get('web-1', 'default'), undefined);
    store.patch('pods', 'default', 'db-1', { metadata: { labels: { app: 'web' } } }, 'merge');
    await until('add db-1', () => log.includes('add db-1'));
    assert.deepEqual(log, ['add web-1', 'delete web-1', 'add db-1']);
  });

  it('a custom-resource informer (ambit.dev AuthorizationPolicy) sees add, update and delete', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const list = () =>
      custom.listClusterCustomObject({ group: 'ambit.dev', version: 'v1alpha1', plural: 'authorizationpolicies' }) as Promise<KubernetesListObject<KubernetesObject>>;
    const informer = await start(makeInformer(kc, '/apis/ambit.dev/v1alpha1/authorizationpolicies', list));
    const log = record(informer);
    const policy = { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', namespace: 'default' }, spec: { action: 'DENY' } };
    await custom.createNamespacedCustomObject({ group: 'ambit.dev', version: 'v1alpha1', namespace: 'default', plural: 'authorizationpolicies', body: policy });
    await until('add deny-all', () => log.includes('add deny-all'));
    store.patch('authorizationpolicies', 'default', 'deny-all', { status: { conditions: [{ type: 'Accepted', status: 'True' }] } }, 'merge', { subresource: 'status' });
    await until('update deny-all', () => log.includes('update deny-all'));
    await custom.deleteNamespacedCustomObject({ group: 'ambit.dev', version: 'v1alpha1', namespace: 'default', plural: 'authorizationpolicies', name: 'deny-all' });
    await until('delete deny-all', () => log.includes('delete deny-all'));
    assert.deepEqual(log, ['add deny-all', 'update deny-all', 'delete deny-all']);
  });

  it('an informer whose watch gets 410 Gone relists and converges', async () => {
    // A tiny history, so a few writes while the informer is away push its version out of the window.
    const small = new ObjectStore({ historySize: 10 });
    for (const name of ['stays', 'goes', 'changes']) small.create('configmaps', { metadata: { name }, data: { v: '1' } });
    let api = await startApiServer({ store: small, token: TOKEN });
    const port = api.port;
    try {
      const skc = kubeConfig(api.url);
      const core = skc.makeApiClient(CoreV1Api);
      const informer = makeInformer(skc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces());
      // The usual production pattern: on error, restart after a delay (bounded here).
      let restarts = 0;
      let stopped = false;
      informer.on(ERROR, () => {
        if (!stopped && restarts++ < 200) setTimeout(() => void informer.start(), 25);
      });
      const log = record(informer);
      await informer.start();
      informers.push(informer as unknown as Informer<KubernetesObject>);
      assert.equal(informer.list().length, 3);

      // The API server goes away; the informer keeps its cache and its resourceVersion.
      await api.close();
      const staleRv = (informer as ListWatch<KubernetesObject>).latestResourceVersion();
      small.delete('configmaps', 'default', 'goes');
      small.patch('configmaps', 'default', 'changes', { data: { v: '2' } }, 'merge');
      for (let i = 0; i < 15; i++) small.create('configmaps', { metadata: { name: `new-${i}` } });
      assert.throws(() => small.watch('configmaps', { resourceVersion: staleRv }, () => {}), /too old resource version/);

      api = await startApiServer({ store: small, token: TOKEN, port });
      const want = () => small.list('configmaps').items.map((c) => c.metadata.name).sort();
      const have = () => informer.list().map((c) => c.metadata?.name).sort();
      await until('informer cache equals the store', () => JSON.stringify(have()) === JSON.stringify(want()));
      assert.ok(log.includes('delete goes'), 'the relist reports objects deleted while away');
      assert.ok(log.includes('update changes'), 'the relist reports objects changed while away');
      assert.ok(log.includes('add new-14'));
      assert.equal(informer.get('changes', 'default') && (informer.get('changes', 'default') as any).data.v, '2');

      // And it is watching again, not just relisted once.
      small.create('configmaps', { metadata: { name: 'after-recovery' } });
      await until('add after-recovery', () => log.includes('add after-recovery'));
      stopped = true;
      await informer.stop();
    } finally {
      await api.close();
    }
  });
});
