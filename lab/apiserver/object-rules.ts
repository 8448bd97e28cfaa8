import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { ApiError } from './status.js';
import type { DraftObject, KubeObject } from './types.js';

/**
 * The per-object rules the API machinery applies on every write: shape
 * checks, name validation, the defaults a real API server fills in, and the
 * generation rule. Kept apart from the store so the store reads as the
 * storage and versioning logic only.
 */

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Types whose names become DNS labels (namespaces appear in service FQDNs, services are DNS names).
const LABEL_NAMED = new Set(['namespaces', 'services']);

export function detailsOf(res: Pick<ResourceType, 'group' | 'plural'>, name?: string): { name?: string; group: string; kind: string } {
  return name === undefined ? { group: res.group, kind: res.plural } : { name, group: res.group, kind: res.plural };
}

/**
 * Checks that a request body is an object of this type and returns it with
 * kind/apiVersion filled in. Also used for the bodies of create-only
 * endpoints (TokenReview), which are typed like objects but never stored.
 */
export function checkShape(res: Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural'>, body: unknown): DraftObject {
  if (!isPlainObject(body)) throw new ApiError('BadRequest', `the request body must be a JSON or YAML object, got ${Array.isArray(body) ? 'an array' : typeof body}`);
  const apiVersion = apiVersionOf(res);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw new ApiError('BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== res.kind) {
    throw new ApiError('BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${res.kind})`);
  }
  const metadata = body.metadata ?? {};
  if (!isPlainObject(metadata)) throw new ApiError('BadRequest', 'metadata must be an object');
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map) || !Object.values(map).every((v) => typeof v === 'string')) {
      throw new ApiError('Invalid', `metadata.${field} must be a map of string to string`, detailsOf(res, typeof metadata.name === 'string' ? metadata.name : undefined));
    }
  }
  // A JSON round trip gives in-process callers the same semantics as HTTP ones:
  // Dates become timestamps, undefined fields disappear, nothing is shared.
  // apiVersion and kind lead, as in every manifest, and are set even if the body had them as undefined.
  const out = { apiVersion, kind: res.kind, ...body, metadata };
  Object.assign(out, { apiVersion, kind: res.kind });
  return JSON.parse(JSON.stringify(out)) as DraftObject;
}

export function checkName(res: ResourceType, name: unknown): string {
  const label = LABEL_NAMED.has(res.plural);
  const valid = typeof name === 'string' && (label ? name.length <= 63 && DNS_LABEL.test(name) : name.length <= 253 && DNS_SUBDOMAIN.test(name));
  if (!valid) {
    const rule = label ? 'a lower-case RFC 1123 label (at most 63 characters: a-z, 0-9, -)' : 'a lower-case RFC 1123 subdomain (a-z, 0-9, - and .)';
    throw new ApiError('Invalid', `${res.kind} "${String(name)}" is invalid: metadata.name must be ${rule}`, detailsOf(res, String(name)));
  }
  return name as string;
}

/** What a real API server resets on create for a type with a status subresource. */
export function initialStatus(res: ResourceType): unknown {
  if (res.plural === 'pods') return { phase: 'Pending' };
  if (res.plural === 'namespaces') return { phase: 'Active' };
  return undefined;
}

function withoutMetaAndStatus(obj: KubeObject | DraftObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** Generation counts changes to the desired state: anything outside metadata and status. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  return !isDeepStrictEqual(withoutMetaAndStatus(a), withoutMetaAndStatus(b));
}

/** Equal apart from resourceVersion: such a write is a no-op and must not wake watchers. */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return isDeepStrictEqual(strip(a), strip(b));
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** RFC 3339 at second precision, as Kubernetes writes timestamps. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** The random suffix Kubernetes appends to `generateName` (no vowels, so no accidental words). */
export function nameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}
