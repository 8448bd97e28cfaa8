import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { startFileSource } from './file-source.js';
import { MeshState } from './mesh-state.js';

const dir = mkdtempSync(join(tmpdir(), 'ambit-file-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

describe('the local config file source', () => {
  it('feeds the same updater as the controller: complete once applied, follows edits, keeps the last good state on garbage', async () => {
    const path = join(dir, 'mesh.yaml');
    // Fields left out get their defaults, as in a push.
    writeFileSync(
      path,
      `nodes: [{ name: node1, ip: 10.200.0.10 }]
workloads:
  - { uid: u1, namespace: shop, name: web-1, node: node1, ip: 10.244.1.5, meshed: true, identity: "spiffe://cluster.local/ns/shop/sa/web" }
  - { uid: u2, namespace: shop, name: web-2, node: node1, ip: 10.244.1.6, meshed: true, identity: "spiffe://cluster.local/ns/shop/sa/web" }
services: []
`,
    );
    const state = new MeshState();
    const source = startFileSource(path, state, pino({ level: 'silent' }), 20);
    try {
      await source.loaded;
      assert.equal(state.complete, true);
      assert.equal(state.nodeIp('node1'), '10.200.0.10');
      assert.deepEqual(state.workloadAt('10.244.1.5')?.labels, {}, 'defaults filled in as the wire would');

      writeFileSync(path, `nodes: [{ name: node1, ip: 10.200.0.10 }]\nworkloads:\n  - { uid: u1, namespace: shop, name: web-1, node: node1, ip: 10.244.1.5, meshed: true, identity: "spiffe://cluster.local/ns/shop/sa/web" }\n`);
      await until('the removed workload goes', () => state.workloadAt('10.244.1.6') === undefined);
      assert.ok(state.workloadAt('10.244.1.5'));

      writeFileSync(path, 'workloads: [{ uid: u1, ip: not-an-ip }]\n');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(state.workloadAt('10.244.1.5'), 'a rejected file changes nothing');
      writeFileSync(path, ': : :\n');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(state.workloadAt('10.244.1.5'), 'nor does one that is not YAML');
    } finally {
      source.stop();
    }
  });
});
