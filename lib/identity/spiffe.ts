/**
 * SPIFFE identities of mesh workloads: `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>`.
 *
 * Parsing is strict (the SPIFFE ID spec plus the Kubernetes name rules), because the
 * identity is what authorization policies match on: no upper case, no percent-encoding,
 * no port/userinfo/query/fragment, no empty or dot segments, nothing after the `sa` segment.
 */
import { AmbitError, fail, ok, type Result } from '../errors.js';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** A validated workload identity. `uri` is the canonical string form. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly uri: string;
}

const SCHEME = 'spiffe://';
// SPIFFE ID spec: trust domain is lower-case letters, digits, '.', '-', '_' (max 255).
const TRUST_DOMAIN_RE = /^[a-z0-9._-]+$/;
// Kubernetes: namespace is a DNS-1123 label, a service account a DNS-1123 subdomain.
const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_URI_LENGTH = 2048;

/**
 * A principal as policies compare it: without the `spiffe://` prefix, so
 * `spiffe://td/ns/a/sa/b` and `td/ns/a/sa/b` are the same. Here, beside the
 * identity's own parsing, rather than with the CRD validators, so that the
 * data path's policy matchers need nothing of the validation machinery.
 */
export function normalizePrincipal(s: string): string {
  return s.startsWith(SCHEME) ? s.slice(SCHEME.length) : s;
}

const bad = (input: string, why: string): Result<never> =>
  fail(new AmbitError('AMBIT_ERR_IDENTITY', `invalid SPIFFE identity ${JSON.stringify(input)}: ${why}`));

/** Checks a trust domain name (e.g. `cluster.local`). */
export function validateTrustDomain(trustDomain: string): Result<string> {
  if (trustDomain.length === 0 || trustDomain.length > 255) return bad(trustDomain, 'trust domain must be 1-255 characters');
  if (!TRUST_DOMAIN_RE.test(trustDomain)) {
    return bad(trustDomain, 'trust domain may only contain lower-case letters, digits, ".", "-" and "_"');
  }
  if (trustDomain.startsWith('.') || trustDomain.endsWith('.') || trustDomain.includes('..')) {
    return bad(trustDomain, 'trust domain has an empty label');
  }
  return ok(trustDomain);
}

/** Builds a validated identity from its parts. */
export function makeSpiffeId(parts: {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}): Result<SpiffeId> {
  const { trustDomain, namespace, serviceAccount } = parts;
  const td = validateTrustDomain(trustDomain);
  if (!td.ok) return td;
  if (namespace.length > 63 || !DNS_LABEL_RE.test(namespace)) {
    return bad(namespace, 'namespace must be a DNS-1123 label (lower-case alphanumerics and "-", at most 63)');
  }
  if (serviceAccount.length > 253 || !DNS_SUBDOMAIN_RE.test(serviceAccount)) {
    return bad(serviceAccount, 'service account must be a DNS-1123 subdomain (lower-case alphanumerics, "-", ".", at most 253)');
  }
  const uri = `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  if (uri.length > MAX_URI_LENGTH) return bad(uri, `longer than ${MAX_URI_LENGTH} characters`);
  return ok(Object.freeze({ trustDomain, namespace, serviceAccount, uri }));
}

/** Parses `spiffe://<td>/ns/<ns>/sa/<sa>`; anything else is an `AMBIT_ERR_IDENTITY` value. */
export function parseSpiffeId(input: string): Result<SpiffeId> {
  if (typeof input !== 'string') return bad(String(input), 'not a string');
  if (input.length > MAX_URI_LENGTH) return bad(input.slice(0, 64) + '...', `longer than ${MAX_URI_LENGTH} characters`);
  if (!input.startsWith(SCHEME)) return bad(input, 'must start with "spiffe://" (lower case)');
  const rest = input.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return bad(input, 'has no path; expected /ns/<namespace>/sa/<serviceaccount>');
  const trustDomain = rest.slice(0, slash);
  if (/[:@]/.test(trustDomain)) return bad(input, 'trust domain must not carry a port or user info');
  const segments = rest.slice(slash + 1).split('/');
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa') {
    return bad(input, 'path must be exactly /ns/<namespace>/sa/<serviceaccount>');
  }
  // Query, fragment and percent-encoding are rejected by the name rules below
  // ('?', '#', '%' are not allowed characters).
  return makeSpiffeId({ trustDomain, namespace: segments[1]!, serviceAccount: segments[3]! });
}

/** The canonical string form of an identity. */
export function formatSpiffeId(id: Pick<SpiffeId, 'trustDomain' | 'namespace' | 'serviceAccount'>): string {
  return `${SCHEME}${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The SPIFFE ID of a whole trust domain (`spiffe://<td>`), put in the root CA's SAN. */
export function trustDomainUri(trustDomain: string): string {
  return `${SCHEME}${trustDomain}`;
}
