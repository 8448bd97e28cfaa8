import { checkLabelMap, childPath, field, type Fields, type Rec } from '../../lib/crds/index.js';
import { dnsLabelProblem, qualifiedNameProblem } from '../../lib/k8s/names.js';

/**
 * `metadata` as the lab needs it: a valid name (no generateName: the lab must
 * know names up front to wire DNS and endpoints), a valid namespace, and
 * labels and annotations that are strings, with Ambit's own labels spelt
 * right, because a typo there silently leaves workloads out of the mesh.
 */

export const DATAPLANE_MODE_LABEL = 'ambit.dev/dataplane-mode';
export const USE_WAYPOINT_LABEL = 'ambit.dev/use-waypoint';
const DATAPLANE_MODES = ['ambient', 'none'];

export interface MetadataRules {
  namespaced: boolean;
  nameCheck: (s: string) => string | undefined;
}

export function checkMetadata(f: Fields, v: unknown, rules: MetadataRules): void {
  const meta = f.record(v, 'metadata', { required: true });
  if (!meta) return;
  const hasName = field(meta, 'name') !== undefined && field(meta, 'name') !== null;
  if (!hasName && field(meta, 'generateName') !== undefined) {
    f.add('metadata.name', 'required (generateName is not supported by the lab; give the object a name)');
  } else f.string(field(meta, 'name'), 'metadata.name', { required: true, check: rules.nameCheck });
  if (rules.namespaced) f.string(field(meta, 'namespace'), 'metadata.namespace', { check: dnsLabelProblem });
  const labels = checkLabelMap(f, field(meta, 'labels'), 'metadata.labels');
  if (labels) checkAmbitLabels(f, labels);
  f.stringMap(field(meta, 'annotations'), 'metadata.annotations', { keyCheck: qualifiedNameProblem });
}

function checkAmbitLabels(f: Fields, labels: Record<string, string>): void {
  const mode = labels[DATAPLANE_MODE_LABEL];
  if (mode !== undefined && !DATAPLANE_MODES.includes(mode)) {
    f.add(childPath('metadata.labels', DATAPLANE_MODE_LABEL), `must be one of ${DATAPLANE_MODES.join(', ')} (got "${mode}")`);
  }
  const wp = labels[USE_WAYPOINT_LABEL];
  if (wp !== undefined) {
    const problem = dnsLabelProblem(wp);
    if (problem) f.add(childPath('metadata.labels', USE_WAYPOINT_LABEL), `must name a Waypoint or be "none": ${problem}`);
  }
}

/** The namespace and name as far as they can be read, for naming the object in messages. */
export function identity(obj: Rec): { kind: string | undefined; namespace: string | undefined; name: string | undefined } {
  const meta = field(obj, 'metadata');
  const m = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Rec) : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return { kind: str(field(obj, 'kind')), namespace: str(field(m, 'namespace')), name: str(field(m, 'name')) };
}
