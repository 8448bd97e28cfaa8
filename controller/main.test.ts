import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTrustBundle } from '../lib/identity/index.js';
import { CONTROLLER_NAMESPACE, LAB_TOKEN, agentChannel, namespace, publishedBundle, startLab, startTestAgent, tempDir, until, type Lab } from './fixtures.js';

const main = resolve(fileURLToPath(import.meta.url), '../main.js');

function freePort(): Promise<number> {
  return new Promise((r, j) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => r(port));
    });
    s.on('error', j);
  });
}

describe('node dist/controller/main.js', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    lab = await startLab();
    lab.store.create('namespaces', namespace(CONTROLLER_NAMESPACE));
    dir = await tempDir();
  });
  after(async () => {
    await lab?.close();
    await dir?.remove();
  });

  it('starts from the environment, serves agents, and stops cleanly on SIGTERM', async () => {
    const [grpcPort, adminPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        AMBIT_KUBE_SERVER: lab.api.url,
        AMBIT_KUBE_TOKEN: LAB_TOKEN,
        AMBIT_CA_DIR: resolve(dir.path, 'ca'),
        AMBIT_AGENT_TOKENS: JSON.stringify({ 'node-1': 'secret-1' }),
        AMBIT_GRPC_HOST: '127.0.0.1',
        AMBIT_GRPC_PORT: String(grpcPort),
        AMBIT_ADMIN_HOST: '127.0.0.1',
        AMBIT_ADMIN_PORT: String(adminPort),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    try {
      await until('ready', async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => undefined))?.status === 200);
      // As a node agent does: the trust bundle comes from the ConfigMap the controller published.
      const bundle = createTrustBundle('cluster.local', publishedBundle(lab.store)!);
      assert.ok(bundle.ok);
      const agent = startTestAgent({ address: `127.0.0.1:${grpcPort}`, channel: agentChannel(bundle.value) }, 'node-1', 'secret-1');
      await agent.conn.synced;
      await agent.stop();
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /controller stopped/);
  });
});
