/**
 * Kubernetes name grammars (k8s.io/apimachinery/pkg/util/validation). Each
 * check returns why a value is invalid, or undefined when it is valid, so
 * callers can put the reason straight into a field error.
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RFC1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** DNS-1123 label: namespaces, container names. */
export function dnsLabelProblem(s: string): string | undefined {
  if (s.length > 63) return `must be at most 63 characters (got ${s.length})`;
  if (!LABEL.test(s)) return `must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (got "${s}")`;
  return undefined;
}

/** DNS-1123 subdomain: most object names. */
export function dnsSubdomainProblem(s: string): string | undefined {
  if (s.length > 253) return `must be at most 253 characters (got ${s.length})`;
  if (!SUBDOMAIN.test(s)) return `must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (got "${s}")`;
  return undefined;
}

/** RFC 1035 label: Service names (they become DNS names, so they must start with a letter). */
export function rfc1035LabelProblem(s: string): string | undefined {
  if (s.length > 63) return `must be at most 63 characters (got ${s.length})`;
  if (!RFC1035.test(s)) return `must be an RFC 1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (got "${s}")`;
  return undefined;
}

/** Label and annotation keys: `[prefix/]name`. */
export function qualifiedNameProblem(s: string): string | undefined {
  const slash = s.indexOf('/');
  const prefix = slash === -1 ? undefined : s.slice(0, slash);
  const name = slash === -1 ? s : s.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix.length === 0) return `has an empty prefix before '/' (got "${s}")`;
    if (dnsSubdomainProblem(prefix)) return `prefix "${prefix}" must be a DNS-1123 subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `must be a qualified name: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got "${s}")`;
  }
  return undefined;
}

/** Label values may be empty; otherwise the qualified-name grammar without a prefix. */
export function labelValueProblem(s: string): string | undefined {
  if (s === '') return undefined;
  if (s.length > 63 || !QUALIFIED_NAME.test(s)) {
    return `must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got "${s}")`;
  }
  return undefined;
}

/** IANA_SVC_NAME: container port names and named targetPorts. */
export function portNameProblem(s: string): string | undefined {
  if (s.length > 15) return `must be at most 15 characters (got "${s}")`;
  if (!IANA_SVC.test(s)) return `must be lower-case letters, digits and '-', starting and ending with a letter or digit (got "${s}")`;
  if (s.includes('--')) return `must not contain "--" (got "${s}")`;
  if (!/[a-z]/.test(s)) return `must contain at least one letter (got "${s}"); a number belongs in an integer field`;
  return undefined;
}
