import type { LabelSelector } from './types.js';

/**
 * Matching of the object forms of label selectors: the plain map a Service
 * uses and the `metav1.LabelSelector` of a Deployment. Inputs are treated as
 * untrusted shapes so a malformed selector simply matches nothing.
 */

type Labels = Readonly<Record<string, string>> | undefined;

function has(labels: Labels, key: string): boolean {
  return labels !== undefined && Object.prototype.hasOwnProperty.call(labels, key);
}

/** Every key/value of `selector` is present in `labels`. An empty map matches everything. */
export function matchesLabels(selector: Readonly<Record<string, string>>, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) {
    if (!has(labels, k) || labels![k] !== v) return false;
  }
  return true;
}

/**
 * `metav1.LabelSelector` semantics. An empty selector matches everything, as
 * in Kubernetes; callers that must not select everything (a Deployment) reject
 * empty selectors during validation.
 */
export function matchesLabelSelector(selector: LabelSelector, labels: Labels): boolean {
  if (selector.matchLabels && !matchesLabels(selector.matchLabels, labels)) return false;
  for (const req of selector.matchExpressions ?? []) {
    const present = has(labels, req.key);
    const values = Array.isArray(req.values) ? req.values : [];
    switch (req.operator) {
      case 'In':
        if (!present || !values.includes(labels![req.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(labels![req.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
