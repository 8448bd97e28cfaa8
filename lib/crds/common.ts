import { labelValueProblem, qualifiedNameProblem } from '../k8s/names.js';
import { childPath, itemPath } from './field-path.js';
import { field, isRecord, type Fields, type Rec } from './fields.js';
import { unknownFieldNote, type Hints } from './schema-errors.js';

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

/** A label map: qualified-name keys, label-grammar values, and numbers caught with a quoting hint. */
export function checkLabelMap(f: Fields, v: unknown, path: string): Record<string, string> | undefined {
  return f.stringMap(v, path, { keyCheck: qualifiedNameProblem, valueCheck: labelValueProblem });
}

/** What the schema's errors on a workload selector do not say by themselves. */
export const SELECTOR_HINTS: Hints = {
  matchExpressions: unknownFieldNote('not supported: a workload selector has only matchLabels (as in Istio)'),
  matchLabels: (i) => (i.keyword === 'minProperties' ? 'must not be empty; omit the selector to select every workload' : undefined),
};

/** The namespace in an object's metadata, when it has one. */
export function namespaceOf(obj: { metadata?: unknown }): string | undefined {
  const ns = isRecord(obj.metadata) ? field(obj.metadata, 'namespace') : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** The one check on `targetRefs` no schema can make: a policy only targets objects of its own namespace. */
export function checkTargetNamespaces(f: Fields, refs: readonly PolicyTargetReference[] | undefined, policyNamespace: string | undefined, path: string): void {
  refs?.forEach((ref, i) => {
    if (ref.namespace !== undefined && policyNamespace !== undefined && ref.namespace !== policyNamespace) {
      f.add(childPath(itemPath(path, i), 'namespace'), `must be the policy's own namespace "${policyNamespace}" (got "${ref.namespace}"); a policy cannot target another namespace`);
    }
  });
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
