import type { RequestAttributes } from './rbac.js';
import type { ResourceRoute, TokenRoute } from './routes.js';
import { AUTHENTICATION_GROUP } from './resources.js';

/**
 * A request's authorization attributes, derived the way kube-apiserver's
 * RequestInfoFactory does: GET on an object is `get`, on a collection `list`
 * (`watch` with ?watch or the /watch/ path), POST `create`, PUT `update`, PATCH
 * `patch`, DELETE `delete` (`deletecollection` on a collection). A list or watch
 * with `fieldSelector=metadata.name=X` names X, so resourceNames rules cover
 * single-object informers.
 */
export function resourceAttributes(method: string, route: ResourceRoute, q: URLSearchParams): RequestAttributes {
  const collection = route.name === undefined;
  const watching = route.watchPath || (collection && (q.get('watch') === 'true' || q.get('watch') === '1'));
  const verb = verbOf(method, collection, watching);
  let name = route.name;
  if (name === undefined && (verb === 'list' || verb === 'watch')) name = singleName(q.get('fieldSelector'));
  return {
    verb,
    apiGroup: route.resource.group,
    resource: route.resource.plural,
    ...(route.subresource ? { subresource: route.subresource } : {}),
    ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

/** TokenRequest is `create` on `serviceaccounts/token` of the named account; TokenReview `create` on cluster-scoped `tokenreviews`. */
export function tokenAttributes(route: TokenRoute): RequestAttributes {
  return route.kind === 'TokenRequest'
    ? { verb: 'create', apiGroup: '', resource: 'serviceaccounts', subresource: 'token', namespace: route.namespace, name: route.serviceAccount }
    : { verb: 'create', apiGroup: AUTHENTICATION_GROUP, resource: 'tokenreviews' };
}

function verbOf(method: string, collection: boolean, watching: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watching ? 'watch' : collection ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

function singleName(fieldSelector: string | null): string | undefined {
  if (!fieldSelector) return undefined;
  for (const term of fieldSelector.split(',')) {
    const m = /^metadata\.name(==?)(.+)$/.exec(term.trim());
    if (m) return m[2];
  }
  return undefined;
}
