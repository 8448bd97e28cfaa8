import { apiGroups, apiVersionOf, CREATE_ONLY, RESOURCES } from './resources.js';

/**
 * The discovery documents clients read before anything else (kubectl builds
 * its REST mapping from them). Only the legacy, unaggregated form is served:
 * client-go falls back to it when the response is plain `application/json`.
 */

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];
const CREATE_ONLY_VERBS = ['create'];

/** `GET /version`; the lab claims a recent Kubernetes so clients enable current behaviour. */
export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-ambit-lab',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** `GET /api` */
export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: string, versions: string[]): unknown {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

/** `GET /apis` */
export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map((g) => groupDoc(g.group, g.versions)) };
}

/** `GET /apis/{group}`, or undefined if the lab does not serve that group. */
export function apiGroup(group: string): unknown {
  const g = apiGroups().find((x) => x.group === group);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(g.group, g.versions) as object) };
}

/** `GET /api/v1` or `GET /apis/{group}/{version}`, or undefined if not served. */
export function apiResourceList(group: string, version: string): unknown {
  const served = RESOURCES.filter((r) => r.group === group && r.version === version);
  const createOnly = CREATE_ONLY.filter((e) => e.group === group && e.version === version);
  if (served.length === 0 && createOnly.length === 0) return undefined;
  const resources: object[] = served.flatMap((r) => {
    const main = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS, shortNames: r.shortNames };
    if (!r.hasStatus) return [main];
    return [main, { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: STATUS_VERBS }];
  });
  for (const e of createOnly) {
    // A subresource whose kind lives in another group says so (`group`, `version`), as kube-apiserver does for serviceaccounts/token.
    resources.push({ name: e.name, singularName: e.singularName, namespaced: e.namespaced, ...e.kindGroupVersion, kind: e.kind, verbs: CREATE_ONLY_VERBS });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
