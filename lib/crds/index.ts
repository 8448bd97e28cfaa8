/**
 * Types and validators for Ambit's custom resources (ambit.dev/v1alpha1) and
 * the Gateway API routes it implements, shared by the lab and the controller.
 * A validator takes any parsed value and returns field errors (empty means
 * valid); it never throws. Ambit's own kinds are validated with the chart's
 * CRD schemas (schema.ts) plus the few checks no schema can express; the
 * Gateway API routes, whose CRDs are upstream's, by hand, for the subset
 * Ambit supports.
 */

export { AMBIT_API_VERSION, AMBIT_GROUP, GATEWAY_API_VERSION, GATEWAY_GROUP } from './common.js';
export type { PolicyTargetReference, WorkloadSelector } from './common.js';
export { CRD_KINDS, findCrdKind, validateResource, type CrdKind } from './registry.js';
// The chart's CRD schemas, the one source of the structural validation of Ambit's kinds.
export { crdSchemas, crdSchemaErrors } from './schema.js';

export { WAYPOINT_DEFAULTS, WAYPOINT_FOR, validateWaypoint } from './waypoint.js';
export type { Waypoint, WaypointFor, WaypointSpec } from './waypoint.js';

export { AUTHZ_ACTIONS, L7_OPERATION_FIELDS, isL7Rule, normalizePrincipal, principalProblem, validateAuthorizationPolicy } from './authorization-policy.js';
export type { AuthorizationAction, AuthorizationPolicy, AuthorizationPolicySpec, AuthorizationRule, Condition, Operation, Source } from './authorization-policy.js';

export { MTLS_MODES, validatePeerAuthentication } from './peer-authentication.js';
export type { MtlsMode, PeerAuthentication, PeerAuthenticationSpec } from './peer-authentication.js';

export { LB_TYPES, RETRY_ON, validateTrafficPolicy } from './traffic-policy.js';
export type { ConnectionPool, FaultInjection, LoadBalancer, LoadBalancerType, LocalRateLimit, OutlierDetection, Retries, TrafficPolicy, TrafficPolicySpec } from './traffic-policy.js';

export { HTTP_METHODS, validateHTTPRoute } from './http-route.js';
export type {
  HTTPBackendRef,
  HTTPMethod,
  HTTPPathMatch,
  HTTPPathModifier,
  HTTPRequestRedirectFilter,
  HTTPRoute,
  HTTPRouteFilter,
  HTTPRouteMatch,
  HTTPRouteRule,
  HTTPRouteSpec,
  HTTPRouteTimeouts,
  HTTPURLRewriteFilter,
} from './http-route.js';
export { validateGRPCRoute } from './grpc-route.js';
export type { GRPCBackendRef, GRPCMethodMatch, GRPCRoute, GRPCRouteFilter, GRPCRouteMatch, GRPCRouteRule, GRPCRouteSpec } from './grpc-route.js';
export type { BackendObjectReference, HeaderMatch, HTTPHeader, HTTPHeaderFilter, HTTPRequestMirrorFilter, ParentReference } from './route-common.js';

// The field-checking toolkit, for validators of other kinds (the lab's core kinds).
export { Fields, field, guarded, isRecord, type FieldError, type Rec, type StringCheck } from './fields.js';
export { childPath, formatPath, itemPath, parsePath, type PathSegment } from './field-path.js';
export { parseDuration } from './duration.js';
export { describeValue } from './describe.js';
export { ipOrCidrProblem, ipv4ToInt, intToIpv4 } from './net.js';
export { checkLabelMap, wildcardProblem } from './common.js';
