import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { kubeConfig } from '../../lib/k8s/client.js';
import { startInformer } from '../../lib/k8s/informer.js';
import { logger } from '../../lib/log.js';
import { absentIsEmpty } from './sources.js';

describe('an API server without the Gateway API CRDs', () => {
  // Answers every request as an API server does for a resource it does not serve.
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }));
  });
  let url: string;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('lists no routes, so the route informers sync and the controller gets ready', async () => {
    const kc = kubeConfig({ server: url, token: 't' });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const list = () => custom.listClusterCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' }) as Promise<KubernetesListObject<KubernetesObject>>;
    await assert.rejects(list(), (err: { code?: number }) => err.code === 404);
    const seen: string[] = [];
    const informer = startInformer({
      kc,
      path: '/apis/gateway.networking.k8s.io/v1/httproutes',
      list: absentIsEmpty(list, logger('test', 'kube')),
      onChange: (e, o) => seen.push(`${e} ${o.metadata?.name}`),
      log: logger('test', 'kube'),
      backoff: { next: () => 60_000, reset: () => undefined },
    });
    await informer.synced;
    assert.deepEqual(seen, []);
    await informer.stop();
  });

  it('other failures still fail the list', async () => {
    const refused = absentIsEmpty(async () => Promise.reject(Object.assign(new Error('forbidden'), { code: 403 })), logger('test', 'kube'));
    await assert.rejects(refused(), /forbidden/);
  });
});
