import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../node-agent/admin/metrics.js';
import { RequestMetrics } from '../../waypoint/metrics.js';
import { chartDir, find, render } from './helm.js';

/**
 * The chart's Grafana dashboard asks only for what the code exports: every
 * PromQL expression (panel targets and variable queries) is read token by
 * token, and each metric name and label it uses is checked against the
 * registries of the real metric classes (node agent and waypoint), with a
 * histogram's `_bucket`/`_sum`/`_count` series and `le`.
 */

/** Series name -> label names, from the metric classes themselves. */
function exported(): Map<string, Set<string>> {
  const agent = new AgentMetrics();
  const waypoint = new Registry();
  new RequestMetrics(waypoint);
  const out = new Map<string, Set<string>>();
  for (const m of [...agent.registry.getMetricsAsArray(), ...waypoint.getMetricsAsArray()]) {
    const { name, labelNames = [] } = m as unknown as { name: string; labelNames?: readonly string[] };
    const type = (m as unknown as { type: string }).type;
    if (type === 'histogram') {
      out.set(`${name}_bucket`, new Set([...labelNames, 'le']));
      out.set(`${name}_sum`, new Set(labelNames));
      out.set(`${name}_count`, new Set(labelNames));
    } else out.set(name, new Set(labelNames));
  }
  return out;
}

const FUNCTIONS = new Set(['rate', 'irate', 'increase', 'sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'histogram_quantile', 'label_values', 'clamp_min', 'abs', 'vector', 'scalar']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

export interface Uses {
  /** Each selector's metric with the labels matched on it. */
  selectors: { metric: string; labels: string[] }[];
  /** Labels named in by/without/on/ignoring lists and label_values' second argument: each must exist on some metric of the expression. */
  grouping: string[];
}

/** The metric names and label names of one PromQL expression (a Grafana one: `$variables` only inside strings and ranges). */
export function promqlUses(expr: string): Uses {
  const tokens = [...expr.replace(/\[[^\]]*\]/g, ' ').matchAll(/"(?:[^"\\]|\\.)*"|[A-Za-z_:][A-Za-z0-9_:]*|=~|!~|!=|[(){},=]|\S/g)].map((m) => m[0]);
  const uses: Uses = { selectors: [], grouping: [] };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!/^[A-Za-z_:]/.test(t)) continue;
    if (['by', 'without', 'on', 'ignoring'].includes(t)) {
      assert.equal(tokens[i + 1], '(', `${t} takes a label list in ${expr}`);
      for (i += 2; tokens[i] !== ')'; i++) if (tokens[i] !== ',') uses.grouping.push(tokens[i]!);
      continue;
    }
    // An aggregation may put its `by (...)` before its argument: a function is known by its name.
    if (FUNCTIONS.has(t) || tokens[i + 1] === '(') {
      assert.ok(FUNCTIONS.has(t), `unknown function ${t} in ${expr}`);
      if (t === 'label_values') {
        // label_values(selector, label): the label is the last identifier before the closing parenthesis
        let depth = 0;
        let j = i + 1;
        for (; j < tokens.length; j++) {
          if (tokens[j] === '(' || tokens[j] === '{') depth++;
          else if (tokens[j] === ')' || tokens[j] === '}') depth--;
          if (depth === 0) break;
        }
        uses.grouping.push(tokens[j - 1]!);
        tokens.splice(j - 2, 2); // the `, label` is not a metric
      }
      continue;
    }
    if (KEYWORDS.has(t)) continue;
    const labels: string[] = [];
    if (tokens[i + 1] === '{') {
      for (i += 2; tokens[i] !== '}'; i++) {
        const name = tokens[i]!;
        assert.match(tokens[i + 1] ?? '', /^(=|!=|=~|!~)$/, `matcher on ${name} in ${expr}`);
        assert.match(tokens[i + 2] ?? '', /^"/, `matcher value of ${name} is a string in ${expr}`);
        labels.push(name);
        i += 2;
        if (tokens[i + 1] === ',') i++;
      }
    }
    uses.selectors.push({ metric: t, labels });
  }
  return uses;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function expressions(dashboard: { panels: Panel[]; templating: { list: { query?: unknown; definition?: string }[] } }): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q && q !== 'prometheus') out.push({ where: 'a variable', expr: q });
  }
  return out;
}

const dashboardFile = join(chartDir, 'dashboards', 'ambit-mesh.json');

describe('the Grafana dashboard shipped with the chart', () => {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
  const metrics = exported();

  it('reads PromQL the way the check needs', () => {
    assert.deepEqual(promqlUses('sum by (a, b) (rate(m_total{x="1", y=~"$v"}[$__rate_interval])) / histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))'), {
      selectors: [{ metric: 'm_total', labels: ['x', 'y'] }, { metric: 'h_bucket', labels: [] }],
      grouping: ['a', 'b', 'le'],
    });
    assert.deepEqual(promqlUses('label_values(m{ns=~"$namespace"}, destination_service)'), { selectors: [{ metric: 'm', labels: ['ns'] }], grouping: ['destination_service'] });
  });

  it('uses only metric names and labels the node agent and waypoint export', () => {
    const exprs = expressions(dashboard);
    assert.ok(exprs.length >= 15, `found ${exprs.length} expressions`);
    const used = new Set<string>();
    for (const { where, expr } of exprs) {
      const u = promqlUses(expr);
      assert.ok(u.selectors.length > 0, `${where}: no metric in ${expr}`);
      const labelsOfExpr = new Set<string>();
      for (const s of u.selectors) {
        const labels = metrics.get(s.metric);
        assert.ok(labels, `${where}: ${s.metric} is not exported by the code (known: ${[...metrics.keys()].join(', ')})`);
        used.add(s.metric);
        for (const l of s.labels) assert.ok(labels.has(l), `${where}: ${s.metric} has no label ${l}`);
        for (const l of labels) labelsOfExpr.add(l);
      }
      for (const l of u.grouping) assert.ok(labelsOfExpr.has(l), `${where}: grouping by ${l}, which none of its metrics has`);
    }
    // The SPEC's metrics are all on the dashboard.
    for (const m of ['ambit_requests_total', 'ambit_request_duration_milliseconds_bucket', 'ambit_tcp_connections_opened_total', 'ambit_tcp_connections_closed_total', 'ambit_tcp_sent_bytes_total', 'ambit_tcp_received_bytes_total']) assert.ok(used.has(m), `${m} is on the dashboard`);
  });

  it('is off by default and, when on, a ConfigMap with the sidecar label holding the file as it is', async () => {
    assert.ok(!(await render()).some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'ambit-grafana-dashboards'));
    const on = await render({ 'grafana.dashboards.enabled': 'true', 'grafana.dashboards.namespace': 'monitoring' });
    const cm = find(on, 'ConfigMap', 'ambit-grafana-dashboards');
    assert.equal(cm.metadata.namespace, 'monitoring');
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    assert.deepEqual(JSON.parse((cm['data'] as Record<string, string>)['ambit-mesh.json']!), dashboard);
  });
});
