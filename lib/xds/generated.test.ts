import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

it('lib/xds/generated is exactly what scripts/gen-proto-types.sh makes from the .proto files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ambit-gen-'));
  try {
    execFileSync(join(repo, 'scripts', 'gen-proto-types.sh'), [join(tmp, 'out')], { cwd: repo, stdio: 'pipe' });
    const fresh = files(join(tmp, 'out'));
    const committed = files(join(repo, 'lib', 'xds', 'generated'));
    assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), 'run scripts/gen-proto-types.sh: the generated files are not the ones the .proto files give');
    for (const [name, text] of fresh) assert.equal(committed.get(name), text, `${name} is stale: run scripts/gen-proto-types.sh`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
