import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import { exponentialBackoff } from '../backoff.js';
import { logger } from '../log.js';
import { kubeConfig } from './client.js';
import { INFORMER_BACKOFF_RESET_MS, startInformer } from './informer.js';

/**
 * The informer's retry loop against a server that refuses watches (as an API
 * server does when RBAC lacks the verb) and then allows them again.
 */

const forbidden = (res: ServerResponse) => {
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'pods is forbidden' }));
};

describe('an informer whose watch is refused', () => {
  let refuse = true;
  let watches = 0;
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') !== 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [] }));
      return;
    }
    watches++;
    if (refuse) return forbidden(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', resourceVersion: '6' } } })}\n`);
    open.add(res);
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('backs off exponentially while refused, starts over only after a quiet period, and recovers when allowed', async () => {
    const kc = kubeConfig({ server: url, token: 't' });
    const core = kc.makeApiClient(CoreV1Api);
    let clock = 0;
    const delays: number[] = [];
    const seen: string[] = [];
    const informer = startInformer<V1Pod>({
      kc,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces() as Promise<KubernetesListObject<V1Pod>>,
      onChange: (e, o) => seen.push(`${e} ${o.metadata?.name}`),
      log: logger('test', 'kube'),
      // The upper end of each jittered delay, so the growth shows.
      backoff: exponentialBackoff(200, 10_000, () => 1),
      now: () => clock,
      // Recorded, and run at once: the test drives time.
      setTimer: (fn, ms) => {
        delays.push(ms);
        setImmediate(fn);
      },
    });
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(cond());
    };
    try {
      await until(() => delays.length >= 7);
      refuse = false;
      assert.deepEqual(delays.slice(0, 7), [200, 400, 800, 1600, 3200, 6400, 10_000]);
      await until(() => seen.length > 0);
      assert.deepEqual(seen, ['add p']);
      const retries = delays.length;

      // A refusal long after the last one starts the backoff over.
      refuse = true;
      clock += INFORMER_BACKOFF_RESET_MS;
      for (const res of open) res.end(); // the server ends the watch; the library re-watches, refused
      open.clear();
      await until(() => delays.length >= retries + 2);
      assert.deepEqual(delays.slice(retries, retries + 2), [200, 400]);
      refuse = false;
      assert.ok(watches >= retries + 2);
    } finally {
      // Stopped even when an assertion failed, or its retries keep the test process alive.
      await informer.stop();
    }
  });
});
