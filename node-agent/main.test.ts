import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const main = resolve(fileURLToPath(import.meta.url), '../main.js');

it('node dist/node-agent/main.js without its trust bundle exits at once, naming what to mount', async () => {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      AMBIT_NODE_NAME: 'n1',
      AMBIT_POD_CGROUP_ROOT: '/nonexistent/cgroup',
      AMBIT_REDIRECT_IP: '127.0.0.1',
      AMBIT_NODE_IP: '127.0.0.1',
      AMBIT_ROOT_CA_FILE: '/nonexistent/root-ca/root-cert.pem',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 1);
  const fatal = stderr.split('\n').find((l) => l.includes('"level":60'));
  assert.ok(fatal, stderr);
  const line = JSON.parse(fatal) as { code: string; err: string };
  assert.equal(line.code, 'AMBIT_ERR_TRUST_BUNDLE');
  assert.match(line.err, /\/nonexistent\/root-ca\/root-cert\.pem: does not exist; mount ConfigMap ambit-root-ca \(key root-cert\.pem, published by the controller\) there, or point AMBIT_ROOT_CA_FILE at it/);
});
