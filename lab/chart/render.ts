import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { helmPath } from '../../cli/kubectl.js';
import { AmbitError } from '../../lib/errors.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { splitRelease, type Release } from './release.js';

/** The release the lab installs: the chart's documented `helm install ambit charts/ambit -n ambit-system`. */
export const LAB_RELEASE = { name: 'ambit', namespace: 'ambit-system' } as const;

/**
 * Values the lab sets over the chart's defaults, each because the lab differs from a cluster:
 * - `controller.replicas: 1`: one replica keeps the lab's cores for its workloads; it still
 *   elects itself over the chart's Lease, so the election's calls go through the chart's RBAC
 *   (`--set controller.replicas=2` runs the chart's two; test/e2e/chart.test.ts hands over
 *   between them).
 * - `nodeAgent.enableListenerMigration: false`: the lab runs no init containers; the
 *   agent then only warns that tcp_migrate_req is off, as on an old kernel.
 * They go to helm as the first values file, so a user's `--values` and `--set` win over them
 * (helm lets every `--set` win over every file).
 * The image is ignored (the lab runs this checkout's build for the Ambit image), and the
 * trust domain stays the lab's (cluster.local) unless `-f` values say otherwise.
 */
export const LAB_VALUES = Object.freeze({
  controller: { replicas: 1 },
  nodeAgent: { enableListenerMigration: false },
});

export interface RenderOptions {
  chartDir: string;
  /** Extra values files (`lab up --chart DIR --values FILE`), applied after the lab's. */
  valuesFiles?: readonly string[];
  /** Extra `--set` values, last. */
  set?: Readonly<Record<string, string>>;
  /** Render as `helm upgrade` does (`.Release.IsUpgrade`), not as `helm install`. */
  upgrade?: boolean;
  repoRoot: string;
}

/** One rendered object and the chart file it came from (helm's `# Source:` line, `ambit/templates/controller.yaml`). */
export interface RenderedDocument {
  source: string;
  object: KubeObject;
}

/**
 * `helm template` with the real helm binary, CRDs included, hooks included only when asked
 * (`--no-hooks` otherwise). Returns the rendered documents in the order helm printed them.
 */
export async function renderDocuments(opts: RenderOptions, include: { hooks: boolean }): Promise<RenderedDocument[]> {
  const chartDir = resolve(opts.chartDir);
  if (!existsSync(join(chartDir, 'Chart.yaml'))) throw new AmbitError('AMBIT_ERR_CONFIG', `--chart ${opts.chartDir}: no Chart.yaml there`);
  const args = ['template', LAB_RELEASE.name, chartDir, '--namespace', LAB_RELEASE.namespace, '--include-crds', ...(include.hooks ? [] : ['--no-hooks']), ...(opts.upgrade ? ['--is-upgrade'] : [])];
  const cache = join(opts.repoRoot, '.cache', 'helm');
  mkdirSync(cache, { recursive: true });
  const labValues = join(cache, `lab-values-${process.pid}.yaml`);
  writeFileSync(labValues, stringify(LAB_VALUES));
  args.push('--values', labValues);
  for (const f of opts.valuesFiles ?? []) args.push('--values', resolve(f));
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  const stdout = await new Promise<string>((done, fail) => {
    execFile(
      helmPath(opts.repoRoot),
      args,
      // A private home: no repositories, plugins or kubeconfig of whoever runs the lab.
      { timeout: 60_000, maxBuffer: 16 << 20, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', HELM_CACHE_HOME: cache, HELM_CONFIG_HOME: cache, HELM_DATA_HOME: cache, KUBECONFIG: '/dev/null' } },
      (err, out, stderr) => (err ? fail(new AmbitError('AMBIT_ERR_CONFIG', `helm template ${opts.chartDir} failed: ${stderr.trim() || err.message}`)) : done(out)),
    );
  }).finally(() => rmSync(labValues, { force: true }));
  const docs: RenderedDocument[] = [];
  for (const doc of parseAllDocuments(stdout)) {
    if (doc.errors.length > 0) throw new AmbitError('AMBIT_ERR_CONFIG', `helm rendered invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as KubeObject | null;
    const comments = `${doc.commentBefore ?? ''}\n${(doc.contents as { commentBefore?: string } | null)?.commentBefore ?? ''}`;
    const source = /^ ?Source: (.+)$/m.exec(comments)?.[1]?.trim() ?? '';
    if (obj) docs.push({ source, object: obj });
  }
  return docs;
}

/** `helm template` with hooks, sorted into the release helm would record (release.ts). */
export async function renderRelease(opts: RenderOptions): Promise<Release> {
  return splitRelease(await renderDocuments(opts, { hooks: true }));
}

/**
 * `helm template` without hooks (they run on install, upgrade and uninstall, which
 * `lab upgrade` and `lab uninstall` play from renderRelease): the objects in helm's order.
 */
export async function renderChart(opts: RenderOptions): Promise<KubeObject[]> {
  return (await renderDocuments(opts, { hooks: false })).map((d) => d.object);
}
