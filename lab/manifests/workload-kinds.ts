import { checkLabelMap, childPath, field, isRecord, type Fields, type Rec } from '../../lib/crds/index.js';
import { matchesLabelSelector } from '../../lib/k8s/labels.js';
import { qualifiedNameProblem } from '../../lib/k8s/names.js';
import type { LabelSelector } from '../../lib/k8s/types.js';
import { checkPodSpec } from './pod-spec.js';

/** Pod and Deployment: the kinds that become processes in the lab. */

export function checkPod(f: Fields, obj: Rec): void {
  checkPodSpec(f, field(obj, 'spec'), 'spec');
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** A `metav1.LabelSelector`; returns it when usable for matching. */
function checkLabelSelector(f: Fields, v: unknown, path: string): LabelSelector | undefined {
  const sel = f.record(v, path, { required: true });
  if (!sel) return undefined;
  const before = f.errors.length;
  checkLabelMap(f, field(sel, 'matchLabels'), childPath(path, 'matchLabels'));
  const matchLabels = field(sel, 'matchLabels');
  let count = isRecord(matchLabels) ? Object.keys(matchLabels).length : 0;
  f.records(field(sel, 'matchExpressions'), childPath(path, 'matchExpressions'), (req, p) => {
    count++;
    f.string(field(req, 'key'), childPath(p, 'key'), { required: true, check: qualifiedNameProblem });
    const op = f.oneOf(field(req, 'operator'), childPath(p, 'operator'), OPERATORS, { required: true });
    const values = f.stringList(field(req, 'values'), childPath(p, 'values'));
    if ((op === 'In' || op === 'NotIn') && (values === undefined || values.length === 0)) f.add(childPath(p, 'values'), `must not be empty for operator ${op}`);
    if ((op === 'Exists' || op === 'DoesNotExist') && values !== undefined && values.length > 0) f.add(childPath(p, 'values'), `must be empty for operator ${op}`);
  });
  if (count === 0) {
    f.add(path, 'must not be empty: a Deployment selecting every pod would adopt pods it does not own');
    return undefined;
  }
  return f.errors.length === before ? (sel as LabelSelector) : undefined;
}

function checkIntOrPercent(f: Fields, v: unknown, path: string): void {
  if (v === undefined) return;
  if (typeof v === 'string') {
    if (!/^\d{1,3}%$/.test(v) || Number(v.slice(0, -1)) > 100) f.add(path, `must be an integer or a percentage like "25%" (got ${JSON.stringify(v)})`);
  } else f.int(v, path, { min: 0 });
}

export function checkDeployment(f: Fields, obj: Rec): void {
  const spec = f.record(field(obj, 'spec'), 'spec', { required: true });
  if (!spec) return;
  f.int(field(spec, 'replicas'), 'spec.replicas', { min: 0 });
  const selector = checkLabelSelector(f, field(spec, 'selector'), 'spec.selector');
  const template = f.record(field(spec, 'template'), 'spec.template', { required: true });
  if (template) {
    const meta = f.record(field(template, 'metadata'), 'spec.template.metadata', { required: true });
    const before = f.errors.length;
    const labels = meta ? checkLabelMap(f, field(meta, 'labels'), 'spec.template.metadata.labels') : undefined;
    const labelsOk = f.errors.length === before;
    if (meta) f.stringMap(field(meta, 'annotations'), 'spec.template.metadata.annotations', { keyCheck: qualifiedNameProblem });
    // Only compare well-formed labels, so one bad label value is not reported twice.
    if (selector && meta && labelsOk && !matchesLabelSelector(selector, labels ?? {})) {
      f.add('spec.template.metadata.labels', 'must match spec.selector: the Deployment would not own the pods it creates');
    }
    checkPodSpec(f, field(template, 'spec'), 'spec.template.spec', { restartPolicies: ['Always'] });
  }
  const strategy = f.record(field(spec, 'strategy'), 'spec.strategy');
  if (strategy) {
    const type = f.oneOf(field(strategy, 'type'), 'spec.strategy.type', ['RollingUpdate', 'Recreate'] as const);
    const ru = f.record(field(strategy, 'rollingUpdate'), 'spec.strategy.rollingUpdate');
    if (ru) {
      if (type === 'Recreate') f.add('spec.strategy.rollingUpdate', 'must not be set when type is Recreate');
      checkIntOrPercent(f, field(ru, 'maxSurge'), 'spec.strategy.rollingUpdate.maxSurge');
      checkIntOrPercent(f, field(ru, 'maxUnavailable'), 'spec.strategy.rollingUpdate.maxUnavailable');
    }
  }
  f.int(field(spec, 'minReadySeconds'), 'spec.minReadySeconds', { min: 0 });
}
