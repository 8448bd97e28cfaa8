import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ObjectStore, startApiServer, type ApiServer } from '../../lab/apiserver/index.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** The real CLI against the lab's API server on port 0, through a kubeconfig (the cluster path). */
describe('ambit waypoint against an API server', () => {
  let store: ObjectStore;
  let api: ApiServer;
  let kubeconfig: string;
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [main, ...args, '--kubeconfig', kubeconfig], { env: { ...process.env, KUBECONFIG: '' } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    );

  before(async () => {
    store = new ObjectStore();
    api = await startApiServer({ store, port: 0, token: 't' });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'ambit-wp-')), 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'test', context: { cluster: 'c', user: 'u' } }], 'current-context': 'test' }),
    );
    store.create('namespaces', { metadata: { name: 'shop' } });
    store.create('services', { metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } });
    store.create('services', { metadata: { name: 'legacy', namespace: 'shop', labels: { 'ambit.dev/use-waypoint': 'none' } }, spec: { ports: [{ port: 80 }] } });
  });
  after(() => api.close());

  it('apply creates the Waypoint and enrolls the namespace; again, it changes only what is asked', async () => {
    let r = await run(['waypoint', 'apply', '-n', 'shop', '--enroll-namespace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'waypoint shop/waypoint created\nnamespace shop labelled ambit.dev/use-waypoint=waypoint\n');
    const wp = store.get('waypoints', 'shop', 'waypoint') as unknown as { spec: { for: string } };
    assert.equal(wp.spec.for, 'service');
    assert.equal((store.get('namespaces', undefined, 'shop') as { metadata: { labels: Record<string, string> } }).metadata.labels['ambit.dev/use-waypoint'], 'waypoint');
    r = await run(['waypoint', 'apply', '-n', 'shop', '--for', 'all']);
    assert.equal(r.stdout, 'waypoint shop/waypoint configured\n');
    assert.equal((store.get('waypoints', 'shop', 'waypoint') as unknown as { spec: { for: string } }).spec.for, 'all');
  });

  it('list shows the Services bound by the controller\'s rule, and exits 1 while it is not Programmed', async () => {
    const r = await run(['waypoint', 'list', '-n', 'shop', '-o', 'json']);
    assert.equal(r.code, 1, 'no controller wrote Programmed');
    const rows = JSON.parse(r.stdout) as { name: string; services: string[]; namespaceEnrolled: boolean; programmed: string }[];
    assert.deepEqual(rows.map((w) => [w.name, w.services, w.namespaceEnrolled, w.programmed]), [['waypoint', ['shop/web'], true, 'Unknown']]);
    const human = await run(['waypoint', 'list', '-A']);
    assert.match(human.stdout, /^NAMESPACE\s+NAME\s+FOR\s+PROGRAMMED/);
  });

  it('delete removes it and the namespace label that named it; a second delete says there is none (3)', async () => {
    let r = await run(['waypoint', 'delete', '-n', 'shop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /waypoint shop\/waypoint deleted\nnamespace shop: label ambit.dev\/use-waypoint removed\n/);
    assert.equal((store.get('namespaces', undefined, 'shop') as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['ambit.dev/use-waypoint'], undefined);
    r = await run(['waypoint', 'delete', '-n', 'shop']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no Waypoint shop\/waypoint/);
  });

  it('bad usage exits 2 with the usage', async () => {
    for (const args of [['waypoint', 'apply', '--for', 'pods'], ['waypoint', 'list', '--enroll-namespace'], ['waypoint', 'frobnicate'], ['waypoint', 'apply', '-n', 'Bad_NS']]) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /usage: ambit waypoint apply/);
    }
  });
});
