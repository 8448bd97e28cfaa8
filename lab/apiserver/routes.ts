import { AUTHENTICATION_GROUP, findByPath, type ResourceType } from './resources.js';

/** A request path that names a resource collection, one object, or its status. */
export interface ResourceRoute {
  resource: ResourceType;
  /** Set for `/namespaces/{ns}/{plural}` paths; undefined for cluster-wide paths. */
  namespace?: string;
  name?: string;
  subresource?: 'status';
  /** The legacy `/api/v1/watch/...` form, which always watches. */
  watchPath: boolean;
}

export type DiscoveryRoute =
  | { kind: 'api' }
  | { kind: 'apis' }
  | { kind: 'group'; group: string }
  | { kind: 'groupVersion'; group: string; version: string };

/** Recognises the discovery paths: /api, /api/v1, /apis, /apis/{g}, /apis/{g}/{v}. */
export function parseDiscoveryPath(segs: readonly string[]): DiscoveryRoute | undefined {
  if (segs[0] === 'api') {
    if (segs.length === 1) return { kind: 'api' };
    if (segs.length === 2) return { kind: 'groupVersion', group: '', version: segs[1]! };
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { kind: 'apis' };
    if (segs.length === 2) return { kind: 'group', group: segs[1]! };
    if (segs.length === 3) return { kind: 'groupVersion', group: segs[1]!, version: segs[2]! };
  }
  return undefined;
}

/**
 * Parses `/api/v1/...` and `/apis/{g}/{v}/...` resource paths. Returns
 * undefined for anything the lab does not serve (the caller answers 404).
 */
export function parseResourcePath(segs: readonly string[]): ResourceRoute | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) [group, version, rest] = ['', segs[1]!, segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length >= 4) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
  else return undefined;
  const watchPath = rest[0] === 'watch';
  if (watchPath) rest = rest.slice(1);
  let namespace: string | undefined;
  // `/api/v1/namespaces/{name}/status` is the namespace's own status, not a namespaced type called "status".
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  const resource = findByPath(group, version, rest[0]!);
  if (!resource || (namespace !== undefined && !resource.namespaced)) return undefined;
  if (rest.length === 3 && (rest[2] !== 'status' || !resource.hasStatus)) return undefined;
  const route: ResourceRoute = { resource, watchPath };
  if (namespace !== undefined) route.namespace = namespace;
  if (rest[1] !== undefined) route.name = rest[1];
  if (rest[2] === 'status') route.subresource = 'status';
  return route;
}

/** A POST to one of the token endpoints (CREATE_ONLY in resources.ts); tokens.ts answers it and nothing is stored. */
export type TokenRoute = { kind: 'TokenRequest'; namespace: string; serviceAccount: string } | { kind: 'TokenReview' };

/** Recognises `/api/v1/namespaces/{ns}/serviceaccounts/{name}/token` and `/apis/authentication.k8s.io/v1/tokenreviews`. */
export function parseTokenPath(segs: readonly string[]): TokenRoute | undefined {
  const [root, a, b, c, d, e, f] = segs;
  if (segs.length === 7 && root === 'api' && a === 'v1' && b === 'namespaces' && d === 'serviceaccounts' && f === 'token') {
    return { kind: 'TokenRequest', namespace: c!, serviceAccount: e! };
  }
  if (segs.length === 4 && root === 'apis' && a === AUTHENTICATION_GROUP && b === 'v1' && c === 'tokenreviews') return { kind: 'TokenReview' };
  return undefined;
}

/** Splits and URL-decodes a path; undefined if it is not valid percent-encoding. */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
