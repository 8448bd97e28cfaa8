import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesLabels, matchesLabelSelector } from './labels.js';

test('map selectors', () => {
  assert.equal(matchesLabels({ app: 'web' }, { app: 'web', v: '1' }), true);
  assert.equal(matchesLabels({ app: 'web' }, { app: 'db' }), false);
  assert.equal(matchesLabels({ app: 'web' }, undefined), false);
  assert.equal(matchesLabels({}, undefined), true);
  assert.equal(matchesLabels({ constructor: 'x' }, {}), false);
});

test('LabelSelector expressions', () => {
  const labels = { app: 'web', tier: 'front' };
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'mid'] }] }, labels), true);
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels), false);
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, labels), true);
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels), true);
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels), false);
  assert.equal(matchesLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels), false);
  assert.equal(matchesLabelSelector({}, labels), true);
  assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'app', operator: 'Bogus' as never }] }, labels), false);
});
