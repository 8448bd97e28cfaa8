import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom as mulberry32 } from '../../lib/testing/seeded-random.js';
import { checkManifestText, ManifestError, parseManifestText } from './index.js';

/** Whatever text arrives at `lab apply`, the loader answers with objects or issues, never a crash. */

const PIECES = [
  'apiVersion: v1\n', 'apiVersion: apps/v1\n', 'kind: Pod\n', 'kind: Deployment\n', 'kind: Service\n', 'kind: List\n', 'kind: HTTPRoute\n',
  'metadata:\n', '  name: x\n', '  namespace: 5\n', 'spec:\n', '  containers:\n', '  - name: c\n', '    command: 7\n', '  ports: [{port: x}]\n',
  '  selector: {matchLabels: {a: 1}}\n', '  template: null\n', 'items:\n', '- 1\n', '- {kind: List}\n', '---\n', '&a [*a]\n', '*b\n', '!!binary x\n',
  '{', '}', '[', ']', ':', '"', "'", '\t', '  ', '\n', '%YAML 1.2\n', '? complex\n', '<<: *a\n', 'null\n', '~\n', '@\n', '\u0000', '\uFFFF',
];

function assertAnswered(text: string): void {
  const { objects, issues } = checkManifestText(text, 'junk.yaml');
  assert.ok(Array.isArray(objects) && Array.isArray(issues));
  for (const i of issues) {
    assert.equal(typeof i.message, 'string');
    assert.doesNotMatch(i.message, /internal validation error/, i.message);
  }
  try {
    parseManifestText(text, 'junk.yaml');
  } catch (err) {
    assert.ok(err instanceof ManifestError, `unexpected ${String(err)}`);
  }
}

test('random fragments of manifest text', () => {
  const rand = mulberry32(2024);
  for (let i = 0; i < 3000; i++) {
    let text = '';
    const n = Math.floor(rand() * 25);
    for (let j = 0; j < n; j++) text += PIECES[Math.floor(rand() * PIECES.length)];
    assertAnswered(text);
  }
});

test('random bytes and odd values', () => {
  const rand = mulberry32(7);
  for (let i = 0; i < 500; i++) {
    assertAnswered(Array.from({ length: Math.floor(rand() * 200) }, () => String.fromCharCode(Math.floor(rand() * 256))).join(''));
  }
  for (const v of [null, 0, [], {}, [[[]]], { apiVersion: 1, kind: [], metadata: 'x' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [null, 1, 'x', []] } }]) {
    assertAnswered(JSON.stringify(v));
  }
  let deep = '';
  for (let i = 0; i < 3000; i++) deep = `[${deep}]`;
  assertAnswered(deep);
  assertAnswered(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: ${'{a: '.repeat(500)}1${'}'.repeat(500)}\n`);
});
