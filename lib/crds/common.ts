import { dnsLabelProblem, dnsSubdomainProblem, labelValueProblem, qualifiedNameProblem } from '../k8s/names.js';
import { childPath, itemPath } from './field-path.js';
import { field, isRecord, type Fields, type Rec } from './fields.js';

/** API coordinates of the resources this folder validates. */
export const AMBIT_GROUP = 'ambit.dev';
export const AMBIT_API_VERSION = 'ambit.dev/v1alpha1';
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

/** A policy's reference to the object it applies to (Gateway API `LocalPolicyTargetReference`, Istio `targetRefs`). */
export interface PolicyTargetReference {
  /** `""` (core) for a Service, `ambit.dev` for a Waypoint; may be omitted, it follows from the kind. */
  group?: string;
  kind: string;
  name: string;
  /** Only the policy's own namespace is allowed; present for Istio compatibility. */
  namespace?: string;
}

/** Istio's `WorkloadSelector`: pods whose labels include all of these, in the policy's namespace. */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

/** The group each referable kind lives in. */
export const KIND_GROUPS: Readonly<Record<string, string>> = { Service: '', Waypoint: AMBIT_GROUP };

/** A label map: qualified-name keys, label-grammar values, and numbers caught with a quoting hint. */
export function checkLabelMap(f: Fields, v: unknown, path: string): Record<string, string> | undefined {
  return f.stringMap(v, path, { keyCheck: qualifiedNameProblem, valueCheck: labelValueProblem });
}

export function checkWorkloadSelector(f: Fields, v: unknown, path: string): void {
  const sel = f.record(v, path);
  if (!sel) return;
  f.onlyKnown(sel, path, ['matchLabels'], {
    matchExpressions: 'not supported: a workload selector has only matchLabels (as in Istio)',
  });
  const raw = field(sel, 'matchLabels');
  checkLabelMap(f, raw, childPath(path, 'matchLabels'));
  if (isRecord(raw) && Object.keys(raw).length === 0) f.add(childPath(path, 'matchLabels'), 'must not be empty; omit the selector to select every workload');
}

/**
 * `targetRefs`: each names a `kinds` object by name in the policy's
 * namespace. Duplicates are rejected because they usually hide a typo in the
 * name that was meant to differ.
 */
export function checkTargetRefs(
  f: Fields,
  v: unknown,
  path: string,
  kinds: readonly string[],
  policyNamespace: string | undefined,
  opts: { required?: boolean } = {},
): void {
  const seen = new Set<string>();
  f.records(
    v,
    path,
    (ref, p) => {
      f.onlyKnown(ref, p, ['group', 'kind', 'name', 'namespace']);
      const kind = f.oneOf(field(ref, 'kind'), childPath(p, 'kind'), kinds, { required: true });
      const group = f.string(field(ref, 'group'), childPath(p, 'group'));
      if (kind !== undefined && group !== undefined) {
        const want = KIND_GROUPS[kind] ?? '';
        const accepted = want === '' ? ['', 'core'] : [want];
        if (!accepted.includes(group)) f.add(childPath(p, 'group'), `must be ${JSON.stringify(want)} for kind ${kind} (got ${JSON.stringify(group)})`);
      }
      const name = f.string(field(ref, 'name'), childPath(p, 'name'), { required: true, check: dnsSubdomainProblem });
      const ns = f.string(field(ref, 'namespace'), childPath(p, 'namespace'), { check: dnsLabelProblem });
      if (ns !== undefined && policyNamespace !== undefined && ns !== policyNamespace) {
        f.add(childPath(p, 'namespace'), `must be the policy's own namespace "${policyNamespace}" (got "${ns}"); a policy cannot target another namespace`);
      }
      if (kind && name) {
        const key = `${kind}/${name}`;
        if (seen.has(key)) f.add(p, `duplicates another target ${key}`);
        seen.add(key);
      }
    },
    { required: opts.required, nonEmpty: true },
  );
}

/**
 * Istio string matching: exact, `prefix*`, `*suffix`, or `*` alone. A `*`
 * anywhere else would never match what the author meant, so it is an error.
 */
export function wildcardProblem(s: string): string | undefined {
  if (/\s/.test(s)) return `must not contain whitespace (got ${JSON.stringify(s)})`;
  const stars = s.split('*').length - 1;
  if (stars === 0 || s === '*') return undefined;
  if (stars > 1 || !(s.startsWith('*') || s.endsWith('*'))) {
    return `"*" is only allowed alone, as a prefix ("*.example.com") or as a suffix ("/api/*") (got ${JSON.stringify(s)})`;
  }
  return undefined;
}

/** Runs a check on each item of a string list already validated as such. */
export function eachString(f: Fields, values: readonly string[] | undefined, path: string, check: (s: string) => string | undefined): void {
  values?.forEach((s, i) => {
    const problem = check(s);
    if (problem) f.add(itemPath(path, i), problem);
  });
}

/** Convenience for nested optional mappings: `sub(f, rec, 'spec', path)`. */
export function sub(f: Fields, rec: Rec, key: string, path: string, required = false): { rec: Rec | undefined; path: string } {
  const p = childPath(path, key);
  return { rec: f.record(field(rec, key), p, { required }), path: p };
}

/**
 * The parts of a whole resource the spec validators need: its `spec` (checked
 * to be a mapping) and its namespace, for rules that compare against it.
 */
export function objectSpec(f: Fields, obj: unknown, opts: { specRequired?: boolean } = {}): { spec: Rec | undefined; namespace: string | undefined } {
  const root = f.record(obj, '', { required: true });
  if (!root) return { spec: undefined, namespace: undefined };
  const meta = field(root, 'metadata');
  const ns = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? field(meta as Rec, 'namespace') : undefined;
  return {
    spec: f.record(field(root, 'spec'), 'spec', { required: opts.specRequired }),
    namespace: typeof ns === 'string' && ns !== '' ? ns : undefined,
  };
}
