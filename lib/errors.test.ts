import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { ErrorCodes } from './errors.js';

const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'docs', 'errors.md'), 'utf8');

it('docs/errors.md documents exactly the codes of the catalogue', () => {
  const documented = [...doc.matchAll(/^\| `(AMBIT_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ErrorCodes).sort());
});
