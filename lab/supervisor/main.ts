import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { Release } from '../chart/release.js';
import { logger } from '../../lib/log.js';
import { labPaths } from '../paths.js';
import { startControlServer } from './control.js';
import { Lab } from './lab.js';

/**
 * The lab supervisor: started by `ambit lab up` inside the fabric network
 * namespace, it builds the lab and keeps it running until `lab down`.
 */
const log = logger('lab', 'supervisor');
const { values } = parseArgs({
  options: { lab: { type: 'string' }, nodes: { type: 'string', default: '2' }, manifests: { type: 'string' }, chart: { type: 'string' } },
});
const paths = labPaths(values.lab);
// --chart FILE: the release `lab up --chart` rendered with helm; the mesh runs from it.
const release: Release | undefined = values.chart ? JSON.parse(readFileSync(values.chart, 'utf8')) : undefined;
const lab = new Lab(paths, Number(values.nodes), release);
const initial: KubeObject[] = values.manifests ? JSON.parse(readFileSync(values.manifests, 'utf8')) : [];

const control = await startControlServer(paths.controlSocket, [
  { method: 'GET', path: '/status', handler: () => lab.status() },
  { method: 'POST', path: '/apply', handler: (body) => lab.apply((body as { objects: KubeObject[] }).objects) },
  { method: 'POST', path: '/delete', handler: (body) => lab.delete((body as { objects: KubeObject[] }).objects) },
  { method: 'GET', path: '/pods/:namespace/:name', handler: (_b, [ns, name]) => lab.podSandbox(ns!, name!) },
  { method: 'POST', path: '/restart', handler: (body) => lab.restart(body as { kind: string; node?: string; name?: string }) },
  { method: 'POST', path: '/upgrade', handler: (body) => lab.upgrade((body as { release: Release }).release, (body as { timeoutMs: number }).timeoutMs) },
  { method: 'POST', path: '/uninstall', handler: (body) => lab.uninstall(body as { hooks: boolean; timeoutMs: number }) },
  {
    method: 'POST',
    path: '/shutdown',
    handler: async () => {
      await lab.shutdown();
      setTimeout(() => {
        control.close();
        process.exit(0);
      }, 50);
      return { stopped: true };
    },
  },
]);

process.on('SIGTERM', () => {
  void lab.shutdown().finally(() => process.exit(0));
});

try {
  await lab.boot(initial);
} catch {
  // The status endpoint reports the failure; `lab up` reads it and tears down.
  log.error('boot failed; waiting for lab down');
}
