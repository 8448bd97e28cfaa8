import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { renderChart } from './render.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ambit-render-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const chartDir = join(repoRoot, 'charts', 'ambit');
const replicas = (objs: Awaited<ReturnType<typeof renderChart>>) => (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ambit-controller')!.spec as { replicas: number }).replicas;

describe("the lab's chart values", () => {
  it('run one controller replica unless a values file or --set asks for more', async () => {
    assert.equal(replicas(await renderChart({ chartDir, repoRoot })), 1);
    const file = join(dir, 'values.yaml');
    writeFileSync(file, 'controller:\n  replicas: 2\n');
    assert.equal(replicas(await renderChart({ chartDir, repoRoot, valuesFiles: [file] })), 2);
    assert.equal(replicas(await renderChart({ chartDir, repoRoot, valuesFiles: [file], set: { 'controller.replicas': '3' } })), 3);
  });
});
