import { AMBIT_API_VERSION, GATEWAY_API_VERSION } from './common.js';
import { describeValue } from './describe.js';
import { validateAuthorizationPolicy } from './authorization-policy.js';
import { guarded, field, isRecord, type FieldError } from './fields.js';
import { validateGRPCRoute } from './grpc-route.js';
import { validateHTTPRoute } from './http-route.js';
import { validatePeerAuthentication } from './peer-authentication.js';
import { validateTrafficPolicy } from './traffic-policy.js';
import { validateWaypoint } from './waypoint.js';

/** Every kind this folder validates, by API version: the one table consumers dispatch on. */

export interface CrdKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly validate: (obj: unknown) => FieldError[];
}

export const CRD_KINDS: readonly CrdKind[] = Object.freeze([
  { apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', validate: validateWaypoint },
  { apiVersion: AMBIT_API_VERSION, kind: 'AuthorizationPolicy', validate: validateAuthorizationPolicy },
  { apiVersion: AMBIT_API_VERSION, kind: 'PeerAuthentication', validate: validatePeerAuthentication },
  { apiVersion: AMBIT_API_VERSION, kind: 'TrafficPolicy', validate: validateTrafficPolicy },
  { apiVersion: GATEWAY_API_VERSION, kind: 'HTTPRoute', validate: validateHTTPRoute },
  { apiVersion: GATEWAY_API_VERSION, kind: 'GRPCRoute', validate: validateGRPCRoute },
]);

export function findCrdKind(apiVersion: unknown, kind: unknown): CrdKind | undefined {
  return CRD_KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/**
 * Validates any resource of a kind in `CRD_KINDS`, dispatching on its
 * apiVersion and kind; a kind this folder does not know is itself an error.
 */
export function validateResource(obj: unknown): FieldError[] {
  return guarded('', (f) => {
    if (!isRecord(obj)) {
      f.add('', `must be a mapping of fields (got ${describeValue(obj)})`);
      return;
    }
    const apiVersion = field(obj, 'apiVersion');
    const kind = field(obj, 'kind');
    const known = findCrdKind(apiVersion, kind);
    if (known) {
      f.errors.push(...known.validate(obj));
      return;
    }
    const sameKind = CRD_KINDS.find((k) => k.kind === kind);
    if (sameKind) f.add('apiVersion', `must be ${sameKind.apiVersion} for ${sameKind.kind} (got ${describeValue(apiVersion)})`);
    else f.add('kind', `unknown kind ${describeValue(kind)}; expected one of ${CRD_KINDS.map((k) => k.kind).join(', ')}`);
  });
}
