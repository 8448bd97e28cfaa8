import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from '../../test/chart/helm.js';
import { pluralOf } from './api-checks.js';
import { CHART_KINDS } from './permission-checks.js';

describe('ambit check --pre asks for exactly what the chart creates', () => {
  it('CHART_KINDS matches the kinds of a default render, CRDs included', async () => {
    const objects = await render({}, { includeCrds: true });
    const rendered = new Set(
      objects.map((o) => {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
        // Every kind the chart renders pluralizes regularly (PodDisruptionBudget -> poddisruptionbudgets).
        return `${pluralOf(o.kind)}${group ? `.${group}` : ''}`;
      }),
    );
    const asked = new Set(CHART_KINDS.map((k) => `${k.resource}${k.group ? `.${k.group}` : ''}`));
    assert.deepEqual([...asked].sort(), [...rendered].sort());
  });
});
