import { apiVersionOf, RESOURCES } from './resources.js';

/**
 * A minimal OpenAPI v3 surface. kubectl downloads it before create/apply to
 * decide how to validate: when every kind appears (with its
 * x-kubernetes-group-version-kind), kubectl trusts the server to validate
 * fields (`fieldValidation`) instead of validating client-side. The schemas
 * carry no properties; the lab does not validate field names.
 */

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** `GET /openapi/v3` */
export function openApiIndex(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of RESOURCES) {
    const p = gvPath(r.group, r.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}` };
  }
  return { paths };
}

/** `GET /openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`; undefined if not served. */
export function openApiGroupVersion(path: string): unknown {
  const served = RESOURCES.filter((r) => gvPath(r.group, r.version) === path);
  if (served.length === 0) return undefined;
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const r of served) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    schemas[`lab.${apiVersionOf(r).replace('/', '.')}.${r.kind}`] = { type: 'object', 'x-kubernetes-group-version-kind': [gvk], 'x-kubernetes-preserve-unknown-fields': true };
    const item = `/${path}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}/{name}`;
    // kubectl looks for the PATCH operation of the kind and its fieldValidation
    // parameter. Strategic merge is deliberately not listed, so kubectl apply
    // builds its patch from its compiled-in types (or a JSON merge patch for
    // custom resources) rather than from these property-less schemas.
    paths[item] = {
      patch: {
        'x-kubernetes-group-version-kind': gvk,
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
        requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } }, 'application/json-patch+json': { schema: { type: 'object' } } } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Ambit lab', version: 'v1.32.0-ambit-lab' }, paths, components: { schemas } };
}
